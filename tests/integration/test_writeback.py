"""EHR writeback end to end: a clinician's launch (the sandbox EHR), Graph's notifications (the Graph stub) at
our webhook, the participant-events queue on Azurite, and the writeback into the sandbox EHR, signed in with
SMART backend services against our JWKS. Sleeps of the retry backoff are recorded, not slept."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx

from dev.fakes.sandbox_ehr import SandboxEhr
from tests.conftest import AppHost
from tests.support.portal import Tenant, approved_endpoint, new_tenant, organisation, problem
from tests.support.visits import launch
from tests.support.writeback import (
    BACKEND_CLIENT,
    FOLLOW_UP,
    PATIENT,
    Visit,
    at,
    call,
    clinician,
    poison_a_writeback,
    roster,
)


def test_epic_connection_status_is_written_back_once_per_event(
    start_visit: Callable[[str], Visit],
    tenant: Tenant,
    ehr: SandboxEhr,
    app: AppHost,
    http: httpx.Client,
    sleeps: list[float],
) -> None:
    visit = start_visit("epic")
    patient_joined = str(uuid.uuid4())
    visit.notify(call("CallStarted", 0))
    visit.notify(roster(1, joined=[clinician(tenant)]))
    visit.notify(roster(3, joined=[PATIENT]), notification_id=patient_joined)
    visit.notify(roster(3, joined=[PATIENT]), notification_id=patient_joined)  # Graph delivers it again
    app.pump()

    # The clinician's browser, with the cookie its launch set, sees who is connected (no names).
    view = http.get(f"/api/visits/{visit.key}/participants", headers={"Cookie": visit.cookie})
    assert view.status_code == 200, view.text
    assert view.json()["counts"] == {"clinician": 1, "patient": 1, "guest": 0}
    assert "Pat" not in view.text and "Dr Lee" not in view.text
    other = http.get(f"/api/visits/{'0' * 40}/participants", headers={"Cookie": visit.cookie})
    problem(other, 403)
    forged = visit.cookie[:-4] + "AAAA"
    problem(http.get(f"/api/visits/{visit.key}/participants", headers={"Cookie": forged}), 401)

    visit.notify(roster(20, exited=[PATIENT]))
    visit.notify(roster(21, exited=[clinician(tenant)]))
    visit.notify(call("CallEnded", 21))
    app.pump()

    statuses = [w.body for w in ehr.writebacks.of_kind("connection_status")]
    assert [(s["ConferenceID"], s["ConnectionStatus"]) for s in statuses] == [
        (FOLLOW_UP.csn, "Connected"),
        (FOLLOW_UP.csn, "Connected"),
        (FOLLOW_UP.csn, "Disconnected"),
        (FOLLOW_UP.csn, "Disconnected"),
    ]
    # One opaque external ID per participant, paired between connect and disconnect; the vendor is named.
    assert statuses[0]["ExternalID"] == statuses[3]["ExternalID"] != statuses[1]["ExternalID"]
    assert {s["VendorName"] for s in statuses} == {"EHR virtual visits connector"}
    assert {w.client_id for w in ehr.writebacks.recorded} == {BACKEND_CLIENT}
    assert sleeps == []


def test_fhir_audit_events_and_appointment_status_with_a_token_renewed_after_401(
    start_visit: Callable[[str], Visit],
    tenant: Tenant,
    ehr: SandboxEhr,
    app: AppHost,
    http: httpx.Client,
    sleeps: list[float],
) -> None:
    visit = start_visit("fhir")
    # The patient's launch sends them to the meeting: who the next anonymous joiner is (else only a guess).
    assert launch(http, ehr, FOLLOW_UP, "patient")[0].status_code == 302
    visit.notify(call("CallStarted", 0))
    visit.notify(roster(1, joined=[clinician(tenant)]))
    app.pump()
    requests_before = ehr.token_requests
    ehr.backend_tokens.clear()  # the EHR revokes the connector's token: the next call answers 401
    visit.notify(roster(3, joined=[PATIENT]))
    app.pump()
    assert ehr.token_requests == requests_before + 1  # one new token, then the writeback went through
    assert ehr.writebacks.appointments[FOLLOW_UP.id]["status"] == "arrived"
    visit.notify(roster(20, exited=[PATIENT]))
    visit.notify(roster(21, exited=[clinician(tenant)]))
    visit.notify(call("CallEnded", 21))
    app.pump()

    audits = [w.body for w in ehr.writebacks.of_kind("audit_event")]
    assert [(a["subtype"][0]["display"], a["agent"][0]["type"]["coding"][0]["code"]) for a in audits] == [
        ("Login", "PPRF"),
        ("Login", "SBJ"),
        ("Logout", "SBJ"),
        ("Logout", "PPRF"),
    ]
    assert {a["entity"][0]["what"]["reference"] for a in audits} == {f"Appointment/{FOLLOW_UP.id}"}
    assert audits[1]["recorded"] == at(3)
    changes = [w.body["status"] for w in ehr.writebacks.of_kind("appointment_status")]
    assert changes == ["arrived", "fulfilled"]
    assert "Pat" not in str(audits) and "Dr Lee" not in str(audits)
    assert sleeps == []


def test_an_outage_goes_to_poison_is_listed_and_replays_from_the_portal(
    start_visit: Callable[[str], Visit],
    tenant: Tenant,
    ehr: SandboxEhr,
    app: AppHost,
    sleeps: list[float],
) -> None:
    visit = start_visit("epic")
    poison_a_writeback(visit, app)  # the EHR is down

    failed = tenant.call("GET", "portal/writebacks/failed")
    assert failed.status_code == 200, failed.text
    (failure,) = failed.json()["items"]
    assert failure["status"] == "failed" and failure["attempts"] == 5  # host.json maxDequeueCount
    assert "503" in failure["last_error"] and failure["event_type"] == "CallRosterUpdate"
    assert failure["appointment_key"] == visit.key
    assert len(sleeps) == 5 * 2 and all(s == 0 for s in sleeps)  # 3 tries per delivery, Retry-After: 0
    assert ehr.writebacks.of_kind("connection_status") == []

    # Another organisation neither sees nor replays it; the approver role may not replay.
    stranger = organisation(new_tenant(tenant.http, tenant.identity))
    assert stranger.call("GET", "portal/writebacks/failed").json()["items"] == []
    problem(stranger.call("POST", f"portal/writebacks/failed/{failure['id']}/replay"), 404)
    problem(tenant.as_approver("POST", f"portal/writebacks/failed/{failure['id']}/replay"), 403)

    ehr.writebacks.fail_next = []  # the EHR is back
    replayed = tenant.call("POST", f"portal/writebacks/failed/{failure['id']}/replay")
    assert replayed.status_code == 202, replayed.text
    assert replayed.json()["status"] == "replayed"
    problem(tenant.call("POST", f"portal/writebacks/failed/{failure['id']}/replay"), 409)
    app.pump()
    (status,) = ehr.writebacks.of_kind("connection_status")
    assert status.body["ConnectionStatus"] == "Connected"
    assert tenant.call("GET", "portal/writebacks/failed").json()["items"] == []
    audit = tenant.call("GET", "portal/audit").json()["items"]
    assert any(e["action"] == "replay" and e["entity"] == "writeback" for e in audit)


def test_a_refused_writeback_is_failed_at_once_without_retries(
    start_visit: Callable[[str], Visit],
    tenant: Tenant,
    ehr: SandboxEhr,
    app: AppHost,
    sleeps: list[float],
) -> None:
    visit = start_visit("epic")
    body = {"adapter": "epic", "client_id": BACKEND_CLIENT, "epic_path": "/api/epic/2099/NoSuchService"}
    assert tenant.call("PUT", f"portal/endpoints/{visit.endpoint}/writeback", json=body).status_code == 200
    requests_before = ehr.writebacks.requests
    visit.notify(roster(1, joined=[clinician(tenant)]))
    app.pump_retrying_at_once()
    (failure,) = tenant.call("GET", "portal/writebacks/failed").json()["items"]
    assert failure["status"] == "failed" and failure["attempts"] == 1 and "404" in failure["last_error"]
    assert ehr.writebacks.requests == requests_before + 1 and sleeps == []  # refused: asked once, not retried


def test_writeback_settings_are_validated_and_for_admins(tenant: Tenant, ehr: SandboxEhr, app: AppHost) -> None:
    endpoint = approved_endpoint(tenant, ehr)
    problem(tenant.call("GET", f"portal/endpoints/{endpoint}/writeback"), 404)
    bad = tenant.call("PUT", f"portal/endpoints/{endpoint}/writeback", json={"adapter": "hl7", "epic_path": "x"})
    fields = {e["field"] for e in problem(bad, 400)["errors"]}
    assert fields == {"adapter", "epic_path"}
    problem(tenant.as_approver("PUT", f"portal/endpoints/{endpoint}/writeback", json={"adapter": "fhir"}), 403)
    saved = tenant.call("PUT", f"portal/endpoints/{endpoint}/writeback", json={"adapter": "fhir"})
    assert saved.status_code == 200 and saved.json()["client_id"] is None
    assert tenant.call("GET", f"portal/endpoints/{endpoint}/writeback").json()["adapter"] == "fhir"
    stranger = organisation(new_tenant(tenant.http, tenant.identity))
    problem(stranger.call("GET", f"portal/endpoints/{endpoint}/writeback"), 404)


def test_with_teams_the_lobby_wait_is_estimated_from_when_the_patient_was_sent(
    start_visit: Callable[[str], Visit], tenant: Tenant, ehr: SandboxEhr, app: AppHost, http: httpx.Client
) -> None:
    """Graph reports no lobby: the patient's launch sends them to the meeting, and their first appearance in the
    roster two minutes later is the estimated wait; the report says it is an estimate."""
    visit = start_visit("epic")
    sent = datetime.now(UTC)
    answer, _ = launch(http, ehr, FOLLOW_UP, "patient")
    assert answer.status_code == 302, answer.text
    appeared = sent + timedelta(minutes=2)
    visit.notify({**roster(0, joined=[clinician(tenant)]), "eventDateTime": iso(sent - timedelta(minutes=1))})
    visit.notify({**roster(0, joined=[PATIENT]), "eventDateTime": iso(appeared)})
    app.pump()
    answer = tenant.call("GET", "portal/reports/visits?days=7")
    report = answer.json()
    assert answer.status_code == 200, answer.text
    [row] = [r for r in report["items"] if r["appointment_key"] == visit.key]
    assert row["lobby_wait_estimated"] is True
    assert 110 <= row["lobby_wait_seconds"] <= 120  # from the launch's redirect, a moment after `sent`
    assert report["totals"]["lobby_waits_estimated"] >= 1
    exported = tenant.call("GET", "portal/reports/visits?days=7&format=csv").text.splitlines()
    assert "lobby_wait_estimated" in exported[0].split(",")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
