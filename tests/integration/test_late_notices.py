""" "Running late": the clinician of a visit texts its waiting patient from their visit panel, through the real app
(a sandbox EHR launch for the visit session, a signed SIU for the appointment and its number, the outbox and the
dispatcher); at most one per visit every 5 minutes, on an injected clock; audited without the number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from dev.fakes.sandbox_ehr import SAMPLE_APPOINTMENTS, SandboxEhr
from shared.core.errors import Conflict, Forbidden
from shared.visits.models import LateNoticeCreate
from tests.conftest import AppHost, GraphMeetings
from tests.support.clinic import Clinic, deliver
from tests.support.hl7 import siu
from tests.support.portal import problem
from tests.support.texts import NOW, Setup, book, send_queued, sent_texts
from tests.support.visits import launch

FOLLOW_UP = SAMPLE_APPOINTMENTS[0]


def test_the_clinician_tells_the_waiting_patient_they_are_late(
    app: AppHost, http: httpx.Client, clinic: Clinic, sandbox: SandboxEhr, graph_meetings: GraphMeetings
) -> None:
    deliver(app, clinic, siu("S12", datetime.now(UTC) + timedelta(minutes=5), language="es"))
    answer, _ = launch(http, sandbox, FOLLOW_UP, "provider")
    assert answer.status_code == 302
    key = next(c.path.split("/")[3] for c in http.cookies.jar if c.name == "visit_session")
    sent = http.post(f"/api/visits/{key}/late", json={"minutes": 10})
    assert sent.status_code == 201, sent.text
    assert sent.json()["minutes"] == 10 and sent.json()["texted"] == 1
    app.pump()
    outbox = sent_texts(clinic.tenant.id)
    late = [m for m in outbox if "10 minutos" in m["body"]]  # the patient reads Spanish (PID-15)
    assert len(late) == 1 and late[0]["body"].startswith("North Clinic:")

    again = problem(http.post(f"/api/visits/{key}/late", json={"minutes": 15}), 409)
    assert "5 minutes" in again["detail"] and "10 minutes" in again["detail"]
    problem(http.post(f"/api/visits/{key}/late", json={"minutes": 7}), 400)
    problem(http.post(f"/api/visits/{'0' * 40}/late", json={"minutes": 5}), 401)  # the cookie is this visit's
    problem(httpx.post(f"{app.server.url}/api/visits/{key}/late", json={"minutes": 5}), 401)  # no session
    problem(clinic.tenant.call("POST", f"visits/{key}/late", json={"minutes": 5}), 403)  # an admin is not the clinician

    audit = clinic.tenant.call("GET", "portal/audit").json()["items"]
    (entry,) = [e for e in audit if e["action"] == "notify_late"]
    assert entry["summary"] == "texted a visit's patient that the clinician is running late"
    assert "5550123" not in str(audit)


def test_a_visit_without_a_patient_number_has_no_one_to_tell(
    app: AppHost, http: httpx.Client, clinic: Clinic, sandbox: SandboxEhr, graph_meetings: GraphMeetings
) -> None:
    answer, _ = launch(http, sandbox, SAMPLE_APPOINTMENTS[1], "provider")  # no scheduling message came for it
    assert answer.status_code == 302
    key = next(c.path.split("/")[3] for c in http.cookies.jar if c.name == "visit_session")
    assert (
        "no patient with a mobile number"
        in problem(http.post(f"/api/visits/{key}/late", json={"minutes": 5}), 409)["detail"]
    )


def test_one_late_notice_per_visit_every_five_minutes(setup: Setup) -> None:
    key = book(setup, NOW + timedelta(minutes=20), "L1")
    send_queued(setup.runtime)  # the booking's confirmation
    tenant = setup.organisation.tenant_id
    sessions, late = setup.runtime.visits.sessions, setup.runtime.visits.running_late
    session = sessions.verify(sessions.issue(tenant, key, "Practitioner/1", setup.endpoint_id))
    assert late.notify(session, key, LateNoticeCreate(minutes=5)).texted == 1
    setup.clock.advance(minutes=4, seconds=59)
    with pytest.raises(Conflict, match="in 1 minute"):
        late.notify(session, key, LateNoticeCreate(minutes=10))
    setup.clock.advance(seconds=1)
    assert late.notify(session, key, LateNoticeCreate(minutes=10)).minutes == 10
    assert send_queued(setup.runtime)["sent"] == 2
    other = sessions.verify(sessions.issue(tenant, "f" * 40, "Practitioner/1", setup.endpoint_id))
    with pytest.raises(Forbidden):
        late.notify(other, key, LateNoticeCreate(minutes=5))
