"""Patients' Teams Virtual Appointment links, through the real app: the clinician's Microsoft 365 sign-in at the
Entra stub also grants Graph's delegated VirtualAppointment.Read (a refresh token, kept in the secret store only);
the Graph stub serves `getVirtualAppointmentJoinWebUrl` only to the organizer's delegated token, as Graph does."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from azure.data.tables import TableServiceClient

from dev.fakes.sandbox_ehr import SAMPLE_APPOINTMENTS, SandboxEhr
from shared.runtime import get_runtime
from shared.visits.delegated_grants import grant_name
from shared.visits.models import appointment_key
from tests.conftest import AppHost, GraphMeetings
from tests.support.clinic import Clinic, deliver
from tests.support.entra_stub import EntraStub
from tests.support.hl7 import siu
from tests.support.portal import Tenant, approved_endpoint, problem
from tests.support.visits import launch, signed_in_launch

FOLLOW_UP, NEW_PATIENT, _, _ = SAMPLE_APPOINTMENTS
VIRTUAL_APPOINTMENT = "https://visit.teams.microsoft.com/"


@pytest.fixture
def virtual(tenant: Tenant, ehr: SandboxEhr, graph_meetings: GraphMeetings, entra_id: EntraStub) -> str:
    endpoint = approved_endpoint(tenant, ehr)
    changed = tenant.call(
        "PATCH",
        f"portal/endpoints/{endpoint}",
        json={"clinician_sign_in": True, "virtual_appointment_links": True},
    )
    assert changed.status_code == 200 and changed.json()["status"] == "approved"  # no new approval
    entra_id.user = {"tid": tenant.id, "oid": str(uuid.uuid4()), "preferred_username": "dr.avery@north.example"}
    entra_id.authorize_requests.clear()
    return endpoint


def stored_text() -> str:
    """Every row of every table of the run, as text."""
    prefix = get_runtime().settings.storage.table_prefix
    found = []
    for account in ("AzureWebJobsStorage", "DATA_STORAGE_US", "DATA_STORAGE_EU"):
        service = TableServiceClient.from_connection_string(os.environ[account])
        for table in service.list_tables():
            if table.name.startswith(prefix):
                found += [str(dict(e)) for e in service.get_table_client(table.name).list_entities()]
    return "\n".join(found)


def grant(tenant: Tenant, entra_id: EntraStub) -> str | None:
    oid = entra_id.user["oid"] if entra_id.user else ""
    try:
        value = get_runtime().platform.secrets.get(grant_name(tenant.id, oid))
    except Exception:
        return None
    return value if value.startswith("rt-") else None


def test_the_clinicians_sign_in_grants_it_and_patients_join_through_the_virtual_appointment(
    http: httpx.Client,
    tenant: Tenant,
    ehr: SandboxEhr,
    virtual: str,
    entra_id: EntraStub,
    graph_meetings: GraphMeetings,
) -> None:
    callback, _ = launch(http, ehr, FOLLOW_UP, "provider")
    asked = parse_qs(urlsplit(callback.headers["Location"]).query)["scope"][0].split()
    assert asked == ["openid", "offline_access", "https://graph.microsoft.com/VirtualAppointment.Read"]
    back = http.get(callback.headers["Location"]).headers["Location"]
    clinician = http.get(back)
    # The clinician goes to the Teams meeting itself (they bypass the lobby); the refresh token is kept.
    assert clinician.status_code == 302 and clinician.headers["Location"].startswith("https://teams.microsoft.com/")
    kept = grant(tenant, entra_id)
    assert kept is not None

    patient, _ = launch(http, ehr, FOLLOW_UP, "patient")
    assert patient.status_code == 302 and patient.headers["Location"].startswith(VIRTUAL_APPOINTMENT)
    key = appointment_key(tenant.id, virtual, f"csn:{FOLLOW_UP.csn}")
    meeting = next(m for (_, external), m in graph_meetings.stub.meetings.items() if external == key)
    assert meeting["id"] in patient.headers["Location"]
    assert graph_meetings.stub.virtual_appointment_reads.count(meeting["id"]) == 1  # once, kept with the meeting
    # The token is in the secret store and nowhere in storage; the app's own token cannot read the URL.
    assert kept not in stored_text()


def test_the_app_alone_cannot_read_it_and_endpoints_without_the_setting_do_not_ask(
    http: httpx.Client,
    tenant: Tenant,
    ehr: SandboxEhr,
    graph_meetings: GraphMeetings,
    entra_id: EntraStub,
) -> None:
    endpoint = approved_endpoint(tenant, ehr)
    refused = tenant.call(
        "PATCH", f"portal/endpoints/{endpoint}", json={"clinician_sign_in": False, "virtual_appointment_links": True}
    )
    assert [e["field"] for e in problem(refused, 422)["errors"]] == ["virtual_appointment_links"]
    assert tenant.call("PATCH", f"portal/endpoints/{endpoint}", json={"clinician_sign_in": True}).status_code == 200
    entra_id.user = {"tid": tenant.id, "oid": str(uuid.uuid4())}
    callback, _ = launch(http, ehr, FOLLOW_UP, "provider")
    assert parse_qs(urlsplit(callback.headers["Location"]).query)["scope"] == ["openid"]
    http.get(http.get(callback.headers["Location"]).headers["Location"])
    patient, _ = launch(http, ehr, FOLLOW_UP, "patient")
    assert "anon=true" in patient.headers["Location"]  # Teams' browser join, as before
    stub = graph_meetings.stub
    meeting = next(iter(m["id"] for m in stub.meetings.values()))
    answer = httpx.get(
        f"{stub.url}/v1.0/users/{entra_id.user['oid']}/onlineMeetings/{meeting}/getVirtualAppointmentJoinWebUrl",
        headers={"Authorization": f"Bearer {stub.token}"},
    )
    assert answer.status_code == 403  # application permissions are not supported


def clinician_signed_in(http: httpx.Client, clinic: Clinic, sandbox: SandboxEhr, entra_id: EntraStub) -> str:
    """The clinic's endpoint gives Virtual Appointment links, and Dr E1001 has signed in on another visit (so is
    linked, with a grant); their object ID."""
    settings = {"clinician_sign_in": True, "virtual_appointment_links": True}
    assert clinic.tenant.call("PATCH", f"portal/endpoints/{clinic.endpoint}", json=settings).status_code == 200
    oid = str(uuid.uuid4())
    entra_id.user = {"tid": clinic.tenant.id, "oid": oid}
    assert signed_in_launch(http, sandbox, NEW_PATIENT).status_code == 302
    return oid


def test_a_text_link_opened_before_the_clinician_launches_gets_it_from_the_kept_grant(
    app: AppHost,
    http: httpx.Client,
    clinic: Clinic,
    sandbox: SandboxEhr,
    graph_meetings: GraphMeetings,
    entra_id: EntraStub,
) -> None:
    clinician_signed_in(http, clinic, sandbox, entra_id)
    refreshes = entra_id.codes.refresh_requests
    deliver(app, clinic, siu("S12", datetime.now(UTC) + timedelta(minutes=10), provider="E1001"))
    patient, _ = launch(http, sandbox, FOLLOW_UP, "patient")  # the patient first: no one is signing in now
    assert patient.status_code == 302 and patient.headers["Location"].startswith(VIRTUAL_APPOINTMENT)
    assert entra_id.codes.refresh_requests == refreshes + 1


def test_a_refused_grant_falls_back_to_the_teams_link_and_the_clinician_is_asked_again(
    app: AppHost,
    http: httpx.Client,
    clinic: Clinic,
    sandbox: SandboxEhr,
    graph_meetings: GraphMeetings,
    entra_id: EntraStub,
) -> None:
    tenant = clinic.tenant
    oid = clinician_signed_in(http, clinic, sandbox, entra_id)
    entra_id.codes.revoke(oid)  # the clinician's sessions are revoked at Microsoft
    deliver(app, clinic, siu("S12", datetime.now(UTC) + timedelta(minutes=10), provider="E1001"))
    patient, _ = launch(http, sandbox, FOLLOW_UP, "patient")
    assert patient.status_code == 302 and "anon=true" in patient.headers["Location"]  # the visit still happens
    assert grant(tenant, entra_id) is None  # forgotten
    key = appointment_key(tenant.id, clinic.endpoint, f"csn:{FOLLOW_UP.csn}")
    meeting = graph_meetings.stub.meetings[(oid, key)]  # still the clinician's own meeting

    # Their next launch asks again (they stay linked), and their meeting gets its Virtual Appointment link.
    callback, _ = launch(http, sandbox, FOLLOW_UP, "provider")
    assert urlsplit(callback.headers["Location"]).path.endswith("/oauth2/v2.0/authorize")
    back = http.get(callback.headers["Location"]).headers["Location"]
    assert http.get(back).headers["Location"].startswith("https://teams.microsoft.com/")
    assert grant(tenant, entra_id) is not None
    again, _ = launch(http, sandbox, FOLLOW_UP, "patient")
    assert again.headers["Location"].startswith(VIRTUAL_APPOINTMENT) and meeting["id"] in again.headers["Location"]

    # Cancelled at Microsoft: the visit goes on, still theirs, and they are not asked again for a day.
    entra_id.user = None
    get_runtime().visits.delegated_grants.forget(tenant.id, oid)
    asked = len(entra_id.authorize_requests)
    visit = signed_in_launch(http, sandbox, NEW_PATIENT)
    assert visit.headers["Location"].startswith("https://teams.microsoft.com/")
    assert len(entra_id.authorize_requests) == asked + 1
    quiet, _ = launch(http, sandbox, NEW_PATIENT, "provider")
    assert quiet.headers["Location"].startswith("https://teams.microsoft.com/")
    assert len(entra_id.authorize_requests) == asked + 1
    linked = tenant.call("GET", f"portal/endpoints/{clinic.endpoint}/clinicians").json()["items"]
    assert [c["organizer_id"] for c in linked] == [oid]


def test_unlinking_a_clinician_forgets_their_grant(
    http: httpx.Client, tenant: Tenant, ehr: SandboxEhr, virtual: str, entra_id: EntraStub
) -> None:
    signed_in_launch(http, ehr, FOLLOW_UP)
    assert grant(tenant, entra_id) is not None
    ehr_user = f"{ehr.fhir_base}/{ehr.user.fhir_user}"
    body = {"ehr_user_id": ehr_user}
    assert tenant.call("POST", f"portal/endpoints/{virtual}/clinicians/unlink", json=body).status_code == 200
    assert grant(tenant, entra_id) is None
