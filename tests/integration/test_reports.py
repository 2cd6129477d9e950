"""Reports from a scripted visit with known join times, through the participant-events queue on Azurite and the
portal API: figures exact to the second, SMS counts, CSV, and each organisation sees only its own."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dev.sandbox_ehr import SandboxEhr
from shared.auth.principal import Principal, Role
from shared.models.participants import MeetingEventMessage
from shared.models.sms import SmsMessageStatus
from shared.models.visit import Appointment, MeetingLink, VisitReferences
from shared.runtime import get_runtime
from shared.storage.queues import PARTICIPANT_EVENTS
from shared.storage.tables import AppointmentRepository, MeetingLinkRepository, SmsMessageRepository
from tests.conftest import AppHost
from tests.support.portal import Tenant, create_endpoint, new_tenant, organisation, problem

T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
DAY = "start=2026-11-20&end=2026-11-20"


def person(tenant: Tenant | None, user: str) -> dict[str, Any]:
    if tenant is not None:
        return {"Id": user, "Identity": {"User": {"Id": user, "TenantId": tenant.id, "DisplayName": "Dr X"}}}
    return {"Id": user, "Identity": {"Guest": {"Id": user, "DisplayName": "Someone"}}}


class Script:
    def __init__(self, tenant: Tenant, endpoint: str, key: str) -> None:
        self.tenant, self.endpoint, self.key = tenant, endpoint, key

    def send(self, minutes: float, kind: str, **data: Any) -> None:
        body = {"eventType": f"Microsoft.Communication.{kind}", "eventDateTime": _iso(T0 + timedelta(minutes=minutes))}
        message = MeetingEventMessage(
            event_id=str(uuid.uuid4()),
            subscription_id="s",
            tenant_id=self.tenant.id,
            endpoint_id=self.endpoint,
            appointment_key=self.key,
            change_type="updated",
            resource="communications/onlineMeetings/x/meetingCallEvents",
            data={**body, **data},
            received_at=T0 + timedelta(minutes=minutes),
        )
        get_runtime().queues.send(PARTICIPANT_EVENTS, message)

    def joined(self, minutes: float, who: dict[str, Any]) -> None:
        self.send(minutes, "CallRosterUpdate", **{"activeParticipants@joined": [who]})

    def left(self, minutes: float, who: dict[str, Any]) -> None:
        self.send(minutes, "CallRosterUpdate", **{"activeParticipants@exited": [who]})


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def seed(tenant: Tenant, endpoint: str, key: str, department: str, start: datetime | None = None) -> None:
    runtime = get_runtime()
    org = runtime.organisations.get(Principal(tenant.id, "t", "t@x.org", frozenset({Role.ADMIN})))
    link = MeetingLink(
        endpoint_id=endpoint,
        appointment_key=key,
        meeting_id="m",
        organizer_id="o",
        join_url="https://x/j",
        browser_join_url="https://x/b",
        created_at=T0,
        references=VisitReferences(department_id=department),
    )
    runtime.tables.data(org, MeetingLinkRepository).upsert(link)
    if start is not None:
        runtime.tables.data(org, AppointmentRepository).upsert(
            Appointment(endpoint_id=endpoint, appointment_key=key, start=start, end=start + timedelta(minutes=30))
        )


def text(tenant: Tenant, endpoint: str, key: str, kind: str, status: str, day: int = 19) -> None:
    runtime = get_runtime()
    org = runtime.organisations.get(Principal(tenant.id, "t", "t@x.org", frozenset({Role.ADMIN})))
    moment = datetime(2026, 11, day, 9, 0, tzinfo=UTC)
    runtime.tables.data(org, SmsMessageRepository).upsert(
        SmsMessageStatus(
            endpoint_id=endpoint,
            id=str(uuid.uuid4()),
            appointment_key=key,
            type=kind,
            status=status,
            created_at=moment,
            updated_at=moment,
        )
    )


@pytest.fixture
def scripted(tenant: Tenant, ehr: SandboxEhr, app: AppHost) -> dict[str, str]:
    """Visit A: completed with a patient lobby wait and an interpreter; visit B: the patient never came;
    appointment C: booked by scheduling, nobody launched it."""
    endpoint = str(create_endpoint(tenant, ehr)["id"])
    keys = {name: uuid.uuid4().hex + uuid.uuid4().hex[:8] for name in "ABC"}
    seed(tenant, endpoint, keys["A"], "DEP-7", start=T0)
    seed(tenant, endpoint, keys["B"], "=2+2")
    seed(tenant, endpoint, keys["C"], "DEP-9", start=T0 + timedelta(hours=2))
    clinician, patient, interpreter = person(tenant, "c1"), person(None, "g1"), person(None, "g2")
    a = Script(tenant, endpoint, keys["A"])
    a.send(0, "CallStarted")
    a.joined(0, clinician)
    a.send(1, "LobbyEntered", participant=patient)
    a.send(4, "LobbyAdmitted", participant=patient)
    a.joined(4, patient)
    a.joined(6, interpreter)
    a.left(25, patient)
    a.left(27, interpreter)
    a.left(30, clinician)
    a.send(30, "CallEnded")
    b = Script(tenant, endpoint, keys["B"])
    b.joined(60, person(tenant, "c2"))
    b.left(75, person(tenant, "c2"))
    b.send(75, "CallEnded")
    app.pump()
    text(tenant, endpoint, keys["A"], "scheduled", "delivered")
    text(tenant, endpoint, keys["A"], "reminder", "sent", day=20)
    text(tenant, endpoint, keys["B"], "reminder", "failed", day=20)
    text(tenant, endpoint, keys["B"], "reminder", "opted_out", day=20)
    text(tenant, endpoint, keys["C"], "scheduled", "delivered", day=10)  # before the range, for a visit in it
    return {**keys, "endpoint": endpoint}


def test_visit_report_figures_match_the_script(tenant: Tenant, scripted: dict[str, str]) -> None:
    answer = tenant.call("GET", f"portal/reports/visits?{DAY}")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    rows = {row["appointment_key"]: row for row in report["items"]}
    a, b, c = rows[scripted["A"]], rows[scripted["B"]], rows[scripted["C"]]
    assert a["start"] == "2026-11-20T15:04:00Z"  # the patient joined with the clinician there
    assert a["duration_seconds"] == 26 * 60  # until the clinician, the last one, left
    assert a["lobby_wait_seconds"] == 3 * 60
    assert (a["attendees"], a["status"], a["sms_sent"], a["department_id"]) == (3, "completed", 2, "DEP-7")
    assert a["scheduled_start"] == "2026-11-20T15:00:00Z"
    assert (b["status"], b["start"], b["duration_seconds"], b["attendees"], b["sms_sent"]) == (
        "no_show",
        None,
        None,
        1,
        1,
    )
    assert (c["status"], c["attendees"], c["sms_sent"]) == ("no_show", 0, 1)
    assert report["totals"] == {
        "visits": 3,
        "completed": 1,
        "no_show": 2,
        "in_progress": 0,
        "average_duration_seconds": 1560,
        "average_lobby_wait_seconds": 180,
        "sms_sent": 4,
    }
    assert report["range"] == {"start": "2026-11-20", "end": "2026-11-20"}

    exported = tenant.call("GET", f"portal/reports/visits?{DAY}&format=csv")
    assert exported.headers["Content-Type"].startswith("text/csv")
    assert 'filename="visits-2026-11-20-2026-11-20.csv"' in exported.headers["Content-Disposition"]
    table = {r["appointment_key"]: r for r in csv.DictReader(io.StringIO(exported.text))}
    assert table[scripted["A"]]["duration_seconds"] == "1560"
    assert table[scripted["A"]]["start_utc"] == "2026-11-20T15:04:00+00:00"
    assert table[scripted["B"]]["department_id"] == "'=2+2"  # never a formula in a spreadsheet

    # Days outside the range hold nothing.
    assert tenant.call("GET", "portal/reports/visits?start=2026-11-21&end=2026-11-21").json()["items"] == []


def test_sms_report_counts_by_type(tenant: Tenant, scripted: dict[str, str]) -> None:
    report = tenant.call("GET", "portal/reports/sms?start=2026-11-19&end=2026-11-20").json()
    assert report["by_type"]["scheduled"] == {"sent": 1, "delivered": 1, "failed": 0, "opted_out": 0}
    assert report["by_type"]["reminder"] == {"sent": 2, "delivered": 0, "failed": 1, "opted_out": 1}
    assert report["totals"] == {"sent": 3, "delivered": 1, "failed": 1, "opted_out": 1}
    exported = tenant.call("GET", "portal/reports/sms?start=2026-11-19&end=2026-11-20&format=csv").text
    assert exported.splitlines()[0] == "type,sent,delivered,failed,opted_out"
    assert "total,3,1,1,1" in exported.splitlines()
    quality = tenant.call("GET", "portal/reports/call-quality?days=7").json()
    assert quality["reported"] is False and quality["detail"]


def test_reports_are_scoped_to_the_organisation_and_its_admins(tenant: Tenant, scripted: dict[str, str]) -> None:
    stranger = organisation(new_tenant(tenant.http, tenant.identity))
    assert stranger.call("GET", f"portal/reports/visits?{DAY}").json()["items"] == []
    assert stranger.call("GET", "portal/reports/sms?days=90").json()["totals"]["sent"] == 0
    problem(tenant.as_approver("GET", f"portal/reports/visits?{DAY}"), 403)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("days=45", "days"),
        ("start=2026-11-20", "start"),
        ("start=2026-11-20&end=2026-11-01", "end"),
        ("start=2025-01-01&end=2026-11-20", "start"),
        ("days=7&start=2026-11-20&end=2026-11-20", "days"),
        ("format=xml", "format"),
    ],
)
def test_bad_ranges_get_problem_details(tenant: Tenant, query: str, field: str) -> None:
    body = problem(tenant.call("GET", f"portal/reports/visits?{query}"), 400)
    assert [e["field"] for e in body["errors"]] == [field]
