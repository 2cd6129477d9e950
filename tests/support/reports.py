"""A scripted visit with known join times, through the participant-events queue: what the report tests (API and
browser) measure against."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dev.fakes.sandbox_ehr import SandboxEhr
from shared.auth.principal import Principal, Role
from shared.messaging.models import SmsMessageStatus
from shared.messaging.tables import SmsMessageRepository
from shared.runtime import get_runtime
from shared.setup.tables import OrganisationRepository
from shared.storage.queue_names import CALL_RECORDS, PARTICIPANT_EVENTS
from shared.visits.models import Appointment, MeetingLink, VisitReferences
from shared.visits.tables import AppointmentRepository, MeetingLinkRepository
from shared.writeback.models import CallRecordMessage, MeetingEventMessage
from tests.conftest import AppHost, GraphMeetings
from tests.support.call_records import guest, user
from tests.support.portal import Tenant, create_endpoint

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
        platform = get_runtime().platform
        geography = platform.tables.control(OrganisationRepository).get(self.tenant.id, "organisation").geography
        platform.geography_queues.send(geography, PARTICIPANT_EVENTS, message)  # as the webhook queues it

    def joined(self, minutes: float, who: dict[str, Any]) -> None:
        self.send(minutes, "CallRosterUpdate", **{"activeParticipants@joined": [who]})

    def left(self, minutes: float, who: dict[str, Any]) -> None:
        self.send(minutes, "CallRosterUpdate", **{"activeParticipants@exited": [who]})


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def seed(tenant: Tenant, endpoint: str, key: str, department: str, start: datetime | None = None) -> None:
    runtime = get_runtime()
    org = runtime.setup.organisations.get(Principal(tenant.id, "t", "t@x.org", frozenset({Role.ADMIN})))
    link = MeetingLink(
        endpoint_id=endpoint,
        appointment_key=key,
        meeting_id="m",
        organizer_id="o",
        join_url=f"https://teams.example/j/{key}",
        browser_join_url="https://x/b",
        created_at=T0,
        references=VisitReferences(department_id=department),
    )
    runtime.platform.tables.data(org, MeetingLinkRepository).upsert(link)
    if start is not None:
        runtime.platform.tables.data(org, AppointmentRepository).upsert(
            Appointment(endpoint_id=endpoint, appointment_key=key, start=start, end=start + timedelta(minutes=30))
        )


def set_time_zone(tenant: Tenant, zone: str) -> None:
    """The organisation's time zone, as its settings will set it (issue 32 item 9 adds the form)."""
    organisations = get_runtime().platform.tables.control(OrganisationRepository)
    organisation = organisations.get(tenant.id, "organisation")
    organisations.upsert(organisation.model_copy(update={"time_zone": zone}))


def text(
    tenant: Tenant, endpoint: str, key: str, kind: str, status: str, day: int = 19, segments: int | None = None
) -> None:
    runtime = get_runtime()
    org = runtime.setup.organisations.get(Principal(tenant.id, "t", "t@x.org", frozenset({Role.ADMIN})))
    moment = datetime(2026, 11, day, 9, 0, tzinfo=UTC)
    runtime.platform.tables.data(org, SmsMessageRepository).upsert(
        SmsMessageStatus(
            endpoint_id=endpoint,
            id=str(uuid.uuid4()),
            appointment_key=key,
            type=kind,
            status=status,
            reason="Azure Communication Services refused the text (HTTP 400)." if status == "failed" else None,
            created_at=moment,
            updated_at=moment,
            segments=segments,
        )
    )


def call_record(graph: GraphMeetings, tenant: Tenant, key: str, sessions: list[tuple[str, str | None, str]]) -> None:
    """Teams' call record of visit `key`'s meeting: a session per (participant, their tenant, average jitter), each
    an audio stream both ways; then the `call-records` queue reads it (as a notification would have it)."""

    def session(participant: str, tenant: str | None, jitter: str) -> dict[str, Any]:
        identity = user(participant, tenant) if tenant else guest(participant)
        audio = {"averageJitter": jitter, "maxJitter": jitter, "averagePacketLossRate": 0.01}
        audio |= {"averageRoundTripTime": "PT0.08S", "averageAudioDegradation": 0.3, "packetUtilization": 9000}
        caller = {"@odata.type": "#microsoft.graph.callRecords.participantEndpoint", "identity": identity}
        media = [{"label": "main-audio", "streams": [audio, audio]}]
        return {"id": str(uuid.uuid4()), "segments": [{"caller": caller, "callee": {}, "media": media}]}

    record_id = str(uuid.uuid4())
    graph.stub.call_records[record_id] = {
        "id": record_id,
        "joinWebUrl": f"https://teams.example/j/{key}",
        "startDateTime": _iso(T0),
        "sessions": [session(*s) for s in sessions],
    }
    message = CallRecordMessage(record_id=record_id, tenant_id=tenant.id, received_at=T0)
    get_runtime().platform.queues.send(CALL_RECORDS, message)


@pytest.fixture
def scripted(tenant: Tenant, ehr: SandboxEhr, app: AppHost, graph_meetings: GraphMeetings) -> dict[str, str]:
    """Visit A: completed with a patient lobby wait and an interpreter, and its Teams call record (the patient's
    audio had poor jitter); visit B: the patient never came; appointment C: booked by scheduling, nobody launched
    it."""
    endpoint = str(create_endpoint(tenant, ehr, display_name="North Clinic test EHR")["id"])
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
    call_record(
        graph_meetings,
        tenant,
        keys["A"],
        [("c1", tenant.id, "PT0.012S"), ("g1", None, "PT0.042S"), ("g2", None, "PT0.01S")],
    )
    app.pump()
    text(tenant, endpoint, keys["A"], "scheduled", "delivered", segments=2)
    text(tenant, endpoint, keys["A"], "reminder", "sent", day=20, segments=1)
    text(tenant, endpoint, keys["B"], "reminder", "failed", day=20)
    text(tenant, endpoint, keys["B"], "reminder", "opted_out", day=20)
    text(tenant, endpoint, keys["C"], "scheduled", "delivered", day=10)  # before the range, for a visit in it
    return {**keys, "endpoint": endpoint}
