"""Who a launch's user is comes from the EHR's word (the fhirUser's type, else the launch record's own
`launchRecord` parameter), never from the launch URL's path: a patient who sends their portal's launch to the
clinicians' address gets a refusal page, no clinician redirect, no visit session, no Microsoft 365 sign-in and
no place in the clinician list. Every combination, in every sandbox EHR profile."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest

from dev.browser import to_ehr
from dev.fakes.ehr_profiles import PROFILES
from dev.fakes.sandbox_ehr import SAMPLE_APPOINTMENTS, SandboxEhr
from shared.core.clock import SystemClock
from shared.runtime import get_runtime
from shared.setup.tables import OrganisationRepository
from shared.visits.models import EhrUser, appointment_key
from shared.visits.sessions import COOKIE
from shared.visits.tables import EhrUserRepository
from tests.conftest import GraphMeetings
from tests.integration.test_visits import page_text
from tests.support.entra_stub import EntraStub
from tests.support.portal import Tenant, approved_endpoint

FOLLOW_UP = SAMPLE_APPOINTMENTS[0]
TEAMS = "https://teams.microsoft.com/l/meetup-join/"


def attempt(http: httpx.Client, ehr: SandboxEhr, *, route: str, user: str) -> httpx.Response:
    """A launch by `user` (`practitioner` from the clinicians' record, `patient` from the patient portal's),
    sent to /api/launch/{route}: the connector's last answer."""
    record = "provider" if user == "practitioner" else "patient"
    fhir_user = ehr.user.fhir_user if user == "practitioner" else f"Patient/{FOLLOW_UP.patient}"
    start = http.get(ehr.launch_url(FOLLOW_UP, record, user=fhir_user, route=route))
    authorize = to_ehr(start)
    assert authorize.status_code == 302, authorize.text
    return http.get(authorize.headers["Location"])


def cookies(answer: httpx.Response) -> str:
    return " ".join(answer.headers.get_list("set-cookie"))


def stored_users(tenant: Tenant, endpoint: str) -> list[str]:
    runtime = get_runtime()
    organisation = runtime.platform.tables.control(OrganisationRepository).get(tenant.id, "organisation")
    users = runtime.platform.tables.data(organisation, EhrUserRepository)
    return [user.ehr_user_id for user in users.page(endpoint, page_size=100).items]


@pytest.mark.parametrize("ehr", list(PROFILES), indirect=True)
@pytest.mark.parametrize(
    ("route", "user"),
    [("provider", "practitioner"), ("patient", "practitioner"), ("provider", "patient"), ("patient", "patient")],
)
def test_the_role_is_what_the_ehr_says_the_user_is(
    http: httpx.Client, tenant: Tenant, ehr: SandboxEhr, graph_meetings: GraphMeetings, route: str, user: str
) -> None:
    endpoint = approved_endpoint(tenant, ehr)
    answer = attempt(http, ehr, route=route, user=user)
    clinician = user == "practitioner" and ehr.profile.vouches_for_clinicians
    if route == "provider" and not clinician:
        assert answer.status_code == 403
        says = (
            "signed in to the EHR as a patient"
            if user == "patient" and ehr.profile.vouches_for_clinicians
            else ("did not say that you are a clinician")
        )
        assert says in page_text(answer)
        assert "http" not in page_text(answer) and "Location" not in answer.headers
        assert COOKIE not in cookies(answer)
        assert not any("Patient/" in stored for stored in stored_users(tenant, endpoint))
        return
    assert answer.status_code == 302, page_text(answer)
    location = answer.headers["Location"]
    assert location.startswith(TEAMS)
    if clinician:  # whatever the route: the clinician's link and their visit session
        assert "anon=true" not in location and COOKIE in cookies(answer)
    else:  # a patient, or someone the EHR vouched for as nothing more: the lobby, and nothing of a clinician's
        assert "anon=true" in location and COOKIE not in cookies(answer)
        assert stored_users(tenant, endpoint) == []


@pytest.mark.parametrize("ehr", ["epic"], indirect=True)
def test_a_patient_launch_sent_to_the_clinicians_address_never_reaches_the_microsoft_sign_in(
    http: httpx.Client, tenant: Tenant, ehr: SandboxEhr, graph_meetings: GraphMeetings, entra_id: EntraStub
) -> None:
    endpoint = approved_endpoint(tenant, ehr)
    assert tenant.call("PATCH", f"portal/endpoints/{endpoint}", json={"clinician_sign_in": True}).status_code == 200
    entra_id.user = {"tid": tenant.id, "oid": str(uuid.uuid4()), "preferred_username": "pat@north.example"}
    before = len(entra_id.authorize_requests)
    answer = attempt(http, ehr, route="provider", user="patient")
    assert answer.status_code == 403 and "Location" not in answer.headers
    assert len(entra_id.authorize_requests) == before
    # Refusing the Microsoft sign-in at the end of an edited launch is no way in either: nothing was started.
    refused = http.get("/api/launch/microsoft", params={"state": "x" * 43, "error": "access_denied"})
    assert refused.status_code == 400 and COOKIE not in cookies(refused)


@pytest.mark.parametrize("ehr", ["epic"], indirect=True)
def test_a_visit_session_once_issued_to_a_patient_opens_no_panel_and_sends_no_invite(
    http: httpx.Client, tenant: Tenant, ehr: SandboxEhr, graph_meetings: GraphMeetings
) -> None:
    """Sessions issued to patients before roles came from the EHR (12 hours at most) are refused."""
    endpoint = approved_endpoint(tenant, ehr)
    key = appointment_key(tenant.id, endpoint, f"csn:{FOLLOW_UP.csn}")
    patient = f"{ehr.fhir_base}/Patient/{FOLLOW_UP.patient}"
    session = get_runtime().visits.sessions.issue(tenant.id, key, patient, endpoint)
    browser = httpx.Client(base_url=str(http.base_url), cookies={COOKIE: session}, timeout=10)
    invite = browser.post(f"/api/visits/{key}/invites", json={"role": "guest", "phone": "2175550199"})
    assert invite.status_code == 401
    assert browser.get(f"/api/visits/{key}/participants").status_code == 401
    assert "Teams" not in browser.get(f"/api/visits/{key}/panel").text


@pytest.mark.parametrize("ehr", ["epic"], indirect=True)
def test_a_patient_kept_by_an_older_release_is_not_listed_as_a_clinician(
    http: httpx.Client, tenant: Tenant, ehr: SandboxEhr, graph_meetings: GraphMeetings
) -> None:
    endpoint = approved_endpoint(tenant, ehr)
    assert attempt(http, ehr, route="provider", user="practitioner").status_code == 302
    runtime = get_runtime()
    organisation = runtime.platform.tables.control(OrganisationRepository).get(tenant.id, "organisation")
    seen = SystemClock().now() - timedelta(minutes=5)
    patient = f"{ehr.fhir_base}/Patient/{FOLLOW_UP.patient}"
    runtime.platform.tables.data(organisation, EhrUserRepository).upsert(
        EhrUser(endpoint_id=endpoint, ehr_user_id=patient, last_seen_at=seen)
    )
    listed = tenant.call("GET", f"portal/endpoints/{endpoint}/clinicians").json()["items"]
    assert [item["ehr_user_id"] for item in listed] == [f"{ehr.fhir_base}/{ehr.user.fhir_user}"]
