"""The approval sign-in, the clinician's and the patient's launch, and writeback, against every way the sandbox
EHR can behave (dev/fakes/ehr_profiles.py): what SMART App Launch 2.x, OpenID Connect and OAuth leave to the EHR.
A new variation is a profile entry there; it is tested here by being in `PROFILES` (or `FAILING_PROFILES`)."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable

import httpx
import pytest

from dev.fakes.ehr_profiles import FAILING_PROFILES, PROFILES
from dev.fakes.sandbox_ehr import SAMPLE_APPOINTMENTS, SandboxEhr
from tests.conftest import AppHost, GraphMeetings
from tests.support.portal import Tenant, approved_endpoint, ehr_sign_in, endpoint_body, pending_endpoint
from tests.support.visits import launch
from tests.support.writeback import PATIENT, Visit, call, clinician, roster

FOLLOW_UP = SAMPLE_APPOINTMENTS[0]
ALL = pytest.mark.parametrize("ehr", list(PROFILES), indirect=True)
FAILING = pytest.mark.parametrize("ehr", list(FAILING_PROFILES), indirect=True)


def text(response: httpx.Response) -> str:
    assert response.headers["Content-Type"].startswith("text/html")
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text)))


@ALL
def test_approval_sign_in(tenant: Tenant, ehr: SandboxEhr) -> None:
    profile = ehr.profile
    created = tenant.call("POST", "portal/endpoints", json=endpoint_body(ehr))
    assert created.status_code == 201, created.text
    endpoint = created.json()
    assert endpoint["discovery_source"] == ("metadata" if profile.discovery == "metadata" else "smart-configuration")
    assert endpoint["authorization_endpoint"] == f"{ehr.url}/oauth2/authorize"  # well-known wins a disagreement
    assert endpoint["client_type"] == ("confidential-asymmetric" if profile.confidential else "public")
    assert tenant.call("POST", f"portal/endpoints/{endpoint['id']}/submit").status_code == 200
    callback, _ = ehr_sign_in(tenant, endpoint["id"])
    assert callback.status_code == 302, text(callback)
    validated = tenant.call("GET", f"portal/endpoints/{endpoint['id']}").json()
    assert validated["status"] == "validated"
    # The user's FHIR reference, or (fhirUser not granted) the id_token's subject.
    fhir_user = f"{ehr.fhir_base}/{ehr.user.fhir_user}"
    assert validated["validated_ehr_user"] == (ehr.user.id if "fhirUser" in profile.withheld_scopes else fhir_user)


@ALL
def test_clinician_and_patient_launch_into_one_meeting(
    tenant: Tenant, ehr: SandboxEhr, http: httpx.Client, graph_meetings: GraphMeetings
) -> None:
    approved_endpoint(tenant, ehr)
    start = http.get(ehr.launch_url(FOLLOW_UP, "provider"))
    # A form posted to the EHR where it advertises authorize-post; a redirect otherwise.
    assert start.status_code == (200 if ehr.profile.authorize_post else 302)
    clinician_answer, _ = launch(http, ehr, FOLLOW_UP, "provider")
    patient_answer, _ = launch(http, ehr, FOLLOW_UP, "patient")
    assert patient_answer.status_code == 302, text(patient_answer)
    assert "anon=true" in patient_answer.headers["Location"]
    if not ehr.profile.vouches_for_clinicians:  # neither a typed fhirUser nor the launch record's word
        assert clinician_answer.status_code == 403
        assert "Ask your EHR administrator to let the connector's client read who signed in" in text(clinician_answer)
        return
    assert clinician_answer.status_code == 302, text(clinician_answer)
    join_url = clinician_answer.headers["Location"]
    assert join_url.startswith("https://teams.microsoft.com/l/meetup-join/")
    assert any(c.startswith("visit_session=") for c in clinician_answer.headers.get_list("set-cookie"))
    assert patient_answer.headers["Location"].startswith(join_url)


@ALL
def test_writeback(
    start_visit: Callable[[str], Visit], tenant: Tenant, ehr: SandboxEhr, app: AppHost, sleeps: list[float]
) -> None:
    """Epic's connection status where the EHR names the visit by CSN; FHIR AuditEvents by SMART context."""
    adapter = "epic" if ehr.profile.epic_context else "fhir"
    visit = start_visit(adapter)
    visit.notify(call("CallStarted", 0))
    visit.notify(roster(1, joined=[clinician(tenant)]))
    visit.notify(roster(3, joined=[PATIENT]), notification_id=str(uuid.uuid4()))
    app.pump()
    if adapter == "epic":
        statuses = [w.body["ConnectionStatus"] for w in ehr.writebacks.of_kind("connection_status")]
        assert statuses == ["Connected", "Connected"]
    else:
        audits = [w.body for w in ehr.writebacks.of_kind("audit_event")]
        assert [a["subtype"][0]["display"] for a in audits] == ["Login", "Login"]
        assert {a["entity"][0]["what"]["reference"] for a in audits} == {f"Appointment/{FOLLOW_UP.id}"}
    assert sleeps == []


@pytest.mark.parametrize(
    ("ehr", "says"),
    [
        (
            "denies",
            "You, or the EHR, did not allow the connector to start the visit (the EHR said access_denied: "
            "\u201cThe user declined to share their record\u201d)",
        ),
        (
            "unauthorized-client",
            "The EHR does not allow the connector's client to start visits (the EHR said "
            "unauthorized_client: \u201cClient is not enabled for this environment\u201d)",
        ),
        ("no-context", "did not grant the connector the \u201claunch\u201d scope"),
    ],
    indirect=["ehr"],
)
def test_a_launch_the_ehr_refuses_ends_on_a_page_with_its_reason(
    tenant: Tenant, ehr: SandboxEhr, http: httpx.Client, graph_meetings: GraphMeetings, says: str
) -> None:
    endpoint = pending_endpoint(tenant, ehr)
    # Approved by hand: these EHRs refuse the approval sign-in as well (next test).
    from shared.runtime import get_runtime
    from shared.setup.models import EndpointStatus
    from shared.setup.tables import FhirEndpointRepository

    rows = get_runtime().platform.tables.control(FhirEndpointRepository)
    versioned = rows.get_versioned(tenant.id, endpoint)
    rows.replace(versioned.item.model_copy(update={"status": EndpointStatus.VALIDATED}), versioned.etag)
    assert tenant.as_approver("POST", f"portal/endpoints/{endpoint}/approve").status_code == 200
    before = len(graph_meetings.stub.meetings)
    for kind in ("provider", "patient"):
        answer, _ = launch(http, ehr, FOLLOW_UP, kind)
        assert answer.status_code == 400
        assert says in text(answer)
    assert len(graph_meetings.stub.meetings) == before  # no meeting for a visit the EHR did not vouch for


@pytest.mark.parametrize(
    ("ehr", "says"),
    [
        ("denies", "access_denied: The user declined to share their record"),
        ("unauthorized-client", "unauthorized_client: Client is not enabled for this environment"),
        ("no-context", "did not say who signed in: it granted the scopes none"),
    ],
    indirect=["ehr"],
)
def test_an_approval_sign_in_the_ehr_refuses_ends_on_a_page_with_its_reason(
    tenant: Tenant, ehr: SandboxEhr, says: str
) -> None:
    endpoint = pending_endpoint(tenant, ehr)
    callback, _ = ehr_sign_in(tenant, endpoint)
    assert callback.status_code == 422
    assert says in text(callback)
    assert tenant.call("GET", f"portal/endpoints/{endpoint}").json()["status"] == "pending_approval"


@pytest.mark.parametrize("ehr", ["strict"], indirect=True)
def test_a_public_client_at_an_ehr_that_requires_a_confidential_one_is_told_to_check_the_client_type(
    tenant: Tenant, ehr: SandboxEhr
) -> None:
    created = tenant.call("POST", "portal/endpoints", json=endpoint_body(ehr, client_type="public")).json()
    assert tenant.call("POST", f"portal/endpoints/{created['id']}/submit").status_code == 200
    callback, _ = ehr_sign_in(tenant, created["id"])
    assert callback.status_code == 422
    assert "invalid_client" in text(callback)


@pytest.mark.parametrize("ehr", ["strict"], indirect=True)
def test_a_confidential_client_publishes_the_organisations_key_at_once(
    tenant: Tenant, ehr: SandboxEhr, http: httpx.Client
) -> None:
    assert http.get(f"/api/.well-known/jwks/{tenant.id}").json()["keys"] == []
    assert tenant.call("POST", "portal/endpoints", json=endpoint_body(ehr)).status_code == 201
    (key,) = http.get(f"/api/.well-known/jwks/{tenant.id}").json()["keys"]
    assert key["kty"] == "RSA" and key["use"] == "sig" and "d" not in key


@pytest.mark.parametrize("ehr", ["strict"], indirect=True)
def test_the_launch_records_tell_the_analyst_to_register_the_jwks_url(tenant: Tenant, ehr: SandboxEhr) -> None:
    endpoint = approved_endpoint(tenant, ehr)
    records = tenant.call("GET", f"portal/endpoints/{endpoint}/integration-records").json()["records"]
    provider = {v["name"]: v["value"] for v in records[0]["values"]}
    assert provider["Client authentication"] == "private_key_jwt (confidential asymmetric client)"
    assert provider["JWKS URL"] == f"{str(tenant.http.base_url).rstrip('/')}/api/.well-known/jwks/{tenant.id}"
