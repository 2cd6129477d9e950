"""The clinicians' one-time Microsoft 365 sign-in, through the real app: the sandbox EHR's launch, the Entra stub's
OpenID Connect code flow (PKCE, secret, nonce, single-use codes), and the Graph stub, which records each
meeting's organizer from its createOrGet path."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from azure.data.tables import TableServiceClient

from dev.fakes.identity import LocalIssuer
from dev.fakes.sandbox_ehr import SAMPLE_APPOINTMENTS, SandboxEhr
from shared.core.clock import SystemClock
from shared.core.jwt_verify import JwksCache
from shared.core.outbound import Outbound
from shared.core.settings import Geography
from shared.runtime import get_runtime
from shared.visits.microsoft_sign_in import MicrosoftSignIn, SignInFailed
from shared.visits.models import appointment_key
from tests.conftest import CLINICIAN_CLIENT_ID, AppHost, GraphMeetings
from tests.support.clinic import Clinic, deliver
from tests.support.entra_stub import EntraStub
from tests.support.hl7 import siu
from tests.support.portal import Tenant, approved_endpoint, problem
from tests.support.visits import launch, signed_in_launch

FOLLOW_UP, NEW_PATIENT, _, _ = SAMPLE_APPOINTMENTS
SERVICE = "service-organizer"


@pytest.fixture
def signing_in(tenant: Tenant, ehr: SandboxEhr, graph_meetings: GraphMeetings, entra_id: EntraStub) -> str:
    """An approved endpoint with the clinicians' sign-in on, and a clinician of the tenant at Microsoft."""
    endpoint = approved_endpoint(tenant, ehr)
    changed = tenant.call("PATCH", f"portal/endpoints/{endpoint}", json={"clinician_sign_in": True})
    assert changed.status_code == 200 and changed.json()["status"] == "approved"  # no new approval
    entra_id.user = {"tid": tenant.id, "oid": str(uuid.uuid4()), "preferred_username": "dr.avery@north.example"}
    entra_id.authorize_requests.clear()
    graph_meetings.stub.access_policy = None
    return endpoint


def user_id(ehr: SandboxEhr) -> str:
    """The clinician's EHR user ID: the id_token's fhirUser, an absolute reference."""
    return f"{ehr.fhir_base}/{ehr.user.fhir_user}"


def organizer_of(graph: GraphMeetings, key: str) -> str:
    return next(user for (user, external), _ in graph.stub.meetings.items() if external == key)


def test_a_clinicians_first_launch_links_them_and_their_meetings_are_their_own(
    http: httpx.Client,
    tenant: Tenant,
    ehr: SandboxEhr,
    signing_in: str,
    entra_id: EntraStub,
    graph_meetings: GraphMeetings,
) -> None:
    oid = entra_id.user["oid"] if entra_id.user else ""
    callback, _ = launch(http, ehr, FOLLOW_UP, "provider")
    to_microsoft = urlsplit(callback.headers["Location"])
    assert to_microsoft.path == f"/{tenant.id}/oauth2/v2.0/authorize"  # the organisation's own tenant
    asked = parse_qs(to_microsoft.query)
    assert asked["scope"] == ["openid"] and asked["code_challenge_method"] == ["S256"]
    assert asked["client_id"] == [CLINICIAN_CLIENT_ID] and asked["nonce"][0] and asked["state"][0]
    back = http.get(callback.headers["Location"]).headers["Location"]
    visit = http.get(back)
    assert visit.status_code == 302 and visit.headers["Location"].startswith("https://teams.microsoft.com/")
    assert any(c.startswith("visit_session=") for c in visit.headers.get_list("set-cookie"))
    key = appointment_key(tenant.id, signing_in, f"csn:{FOLLOW_UP.csn}")
    assert organizer_of(graph_meetings, key) == oid
    assert http.get(back).status_code == 400  # the sign-in's state is single-use

    # Once: the next visit goes straight to Teams, organised by the clinician.
    requests = len(entra_id.authorize_requests)
    second, _ = launch(http, ehr, NEW_PATIENT, "provider")
    assert second.headers["Location"].startswith("https://teams.microsoft.com/")
    assert len(entra_id.authorize_requests) == requests
    assert organizer_of(graph_meetings, appointment_key(tenant.id, signing_in, f"csn:{NEW_PATIENT.csn}")) == oid

    listed = tenant.call("GET", f"portal/endpoints/{signing_in}/clinicians").json()["items"]
    assert [(c["ehr_user_id"], c["linked"], c["organizer_id"]) for c in listed] == [(user_id(ehr), True, oid)]
    audit = tenant.call("GET", "portal/audit").json()["items"]
    assert any(e["action"] == "link" and e["entity"] == "clinician" and oid in e["entity_id"] for e in audit)


def test_only_the_ehr_user_id_and_object_id_are_kept_in_the_organisations_geography(
    http: httpx.Client, tenant: Tenant, ehr: SandboxEhr, signing_in: str, entra_id: EntraStub
) -> None:
    assert signed_in_launch(http, ehr, FOLLOW_UP).status_code == 302
    runtime = get_runtime()
    storage = runtime.platform.settings.storage
    eu = TableServiceClient.from_connection_string(storage.data_storage(Geography.EU) or "")
    table = eu.get_table_client(f"{storage.table_prefix}ehrusers")
    rows = [dict(row) for row in table.query_entities(f"PartitionKey eq '{signing_in}'")]
    assert len(rows) == 1
    assert set(rows[0]) - {"PartitionKey", "RowKey"} <= {
        "endpoint_id", "ehr_user_id", "organizer_id", "linked_at", "last_seen_at", "linked_at@odata.type",
        "last_seen_at@odata.type",
    }  # fmt: skip
    assert "dr.avery" not in str(rows)  # no username, no name


def test_a_cancelled_or_foreign_sign_in_still_starts_the_visit_unlinked(
    http: httpx.Client,
    tenant: Tenant,
    ehr: SandboxEhr,
    signing_in: str,
    entra_id: EntraStub,
    graph_meetings: GraphMeetings,
) -> None:
    entra_id.user = None  # the clinician cancels at Microsoft
    visit = signed_in_launch(http, ehr, FOLLOW_UP)
    assert visit.status_code == 302 and visit.headers["Location"].startswith("https://teams.microsoft.com/")
    assert organizer_of(graph_meetings, appointment_key(tenant.id, signing_in, f"csn:{FOLLOW_UP.csn}")) == SERVICE

    entra_id.user = {"tid": str(uuid.uuid4()), "oid": str(uuid.uuid4())}  # an account of another tenant
    visit = signed_in_launch(http, ehr, NEW_PATIENT)
    assert visit.headers["Location"].startswith("https://teams.microsoft.com/")
    assert organizer_of(graph_meetings, appointment_key(tenant.id, signing_in, f"csn:{NEW_PATIENT.csn}")) == SERVICE
    listed = tenant.call("GET", f"portal/endpoints/{signing_in}/clinicians").json()["items"]
    assert [c["linked"] for c in listed] == [False]


def test_unlinking_is_for_admins_audited_and_asks_the_clinician_again(
    http: httpx.Client, tenant: Tenant, ehr: SandboxEhr, signing_in: str, entra_id: EntraStub
) -> None:
    signed_in_launch(http, ehr, FOLLOW_UP)
    path = f"portal/endpoints/{signing_in}/clinicians/unlink"
    body = {"ehr_user_id": user_id(ehr)}
    problem(tenant.as_approver("POST", path, json=body), 403)
    problem(tenant.call("POST", path, json={"ehr_user_id": "Practitioner/nobody"}), 404)
    problem(tenant.call("POST", f"portal/endpoints/{'f' * 16}/clinicians/unlink", json=body), 404)
    unlinked = tenant.call("POST", path, json=body)
    assert unlinked.status_code == 200 and unlinked.json()["linked"] is False
    audit = tenant.call("GET", "portal/audit").json()["items"]
    assert audit[0]["action"] == "unlink" and audit[0]["entity"] == "clinician"
    again, _ = launch(http, ehr, NEW_PATIENT, "provider")
    assert urlsplit(again.headers["Location"]).path.endswith("/oauth2/v2.0/authorize")


def test_a_linked_clinician_outside_the_access_policy_gets_the_service_organizer(
    http: httpx.Client, tenant: Tenant, ehr: SandboxEhr, signing_in: str, graph_meetings: GraphMeetings
) -> None:
    graph_meetings.stub.access_policy = {SERVICE}
    try:
        visit = signed_in_launch(http, ehr, FOLLOW_UP)
    finally:
        graph_meetings.stub.access_policy = None
    assert visit.status_code == 302 and visit.headers["Location"].startswith("https://teams.microsoft.com/")
    assert organizer_of(graph_meetings, appointment_key(tenant.id, signing_in, f"csn:{FOLLOW_UP.csn}")) == SERVICE


def test_a_meeting_the_patient_opens_first_is_organised_by_the_appointments_linked_clinician(
    app: AppHost,
    http: httpx.Client,
    clinic: Clinic,
    sandbox: SandboxEhr,
    graph_meetings: GraphMeetings,
    entra_id: EntraStub,
) -> None:
    tenant = clinic.tenant
    assert (
        tenant.call("PATCH", f"portal/endpoints/{clinic.endpoint}", json={"clinician_sign_in": True}).status_code == 200
    )
    oid = str(uuid.uuid4())
    entra_id.user = {"tid": tenant.id, "oid": oid}
    signed_in_launch(http, sandbox, NEW_PATIENT)  # Dr E1001 links themselves on another visit
    # The EHR books FOLLOW_UP (CSN 778899001) with Dr E1001 in AIP-3; the patient opens it first.
    deliver(app, clinic, siu("S12", datetime.now(UTC) + timedelta(minutes=10), provider="E1001"))
    patient, _ = launch(http, sandbox, FOLLOW_UP, "patient")
    assert patient.status_code == 302 and "anon=true" in patient.headers["Location"]
    assert organizer_of(graph_meetings, appointment_key(tenant.id, clinic.endpoint, f"csn:{FOLLOW_UP.csn}")) == oid


def test_the_local_issuer_plays_entra_id_for_make_run(identity: LocalIssuer) -> None:
    """`make run`'s clinician sign-in: the same client code against the dev host's issuer, its page and its checks."""
    redirect = "http://127.0.0.1:1/api/launch/microsoft"
    identity.codes.register("local-clinicians", "s3cret-value", redirect)
    outbound = Outbound(10, allow_private=True)
    clock = SystemClock()

    def sign_in(secret: str) -> MicrosoftSignIn:
        return MicrosoftSignIn(
            client_id="local-clinicians",
            authority=identity.authority,
            client_secret=lambda: secret,
            redirect_uri=redirect,
            jwks=JwksCache(outbound, clock, timedelta(minutes=5)),
            outbound=outbound,
            clock=clock,
        )

    def code(client: MicrosoftSignIn, tenant: str) -> str:
        url = client.authorize_url(tenant, state="s" * 20, nonce="n" * 20, code_challenge=challenge)
        page = httpx.get(url)
        assert page.status_code == 200 and "Sign in to Microsoft 365" in page.text
        answer = httpx.post(url, data={"username": "dr.local@contoso.example"})
        assert answer.status_code == 302
        return parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]

    from shared.smart.pkce import challenge as make_challenge
    from shared.smart.pkce import new_verifier

    verifier = new_verifier()
    challenge = make_challenge(verifier)
    client = sign_in("s3cret-value")
    tenant = str(uuid.uuid4())
    oid = client.redeem(tenant, code=code(client, tenant), verifier=verifier, nonce="n" * 20).organizer_id
    assert oid == identity.subject("dr.local@contoso.example", tenant)["oid"]
    with pytest.raises(SignInFailed):  # a wrong client secret
        sign_in("wrong").redeem(tenant, code=code(client, tenant), verifier=verifier, nonce="n" * 20)
    with pytest.raises(SignInFailed):  # a verifier that is not the challenge's
        client.redeem(tenant, code=code(client, tenant), verifier=new_verifier(), nonce="n" * 20)
    with pytest.raises(SignInFailed):  # another sign-in's nonce
        client.redeem(tenant, code=code(client, tenant), verifier=verifier, nonce="m" * 20)
