"""The soak's video visits (bench/soak.py): each visit's meeting link as a launch stores it, and its call events
(three guests joining and leaving: six connects and disconnects to write back) queued as the webhook queues them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench.harness import Harness
from bench.soak_checks import Organisation
from bench.soak_load import Appointment
from shared.core.settings import Geography
from shared.storage.queue_names import PARTICIPANT_EVENTS
from shared.visits.models import MeetingLink, VisitReferences, appointment_key
from shared.visits.tables import MeetingLinkRepository
from shared.writeback.models import MeetingEventMessage

GUESTS = 3


@dataclass(frozen=True)
class Visit:
    organisation: Organisation
    appointment: Appointment
    events: list[MeetingEventMessage]

    def expected(self) -> set[tuple[str, str, str]]:
        """What the EHR must receive once each: (CSN, participant, Connected or Disconnected)."""
        return {
            (self.appointment.csn, guest, status)
            for guest in _guests(self.appointment)
            for status in ("Connected", "Disconnected")
        }


def _guests(appointment: Appointment) -> list[str]:
    return [f"soakguest{appointment.index:05d}g{k}" for k in range(GUESTS)]


def visits(harness: Harness, organisations: list[Organisation], appointments: list[Appointment]) -> list[Visit]:
    """The visits' meeting links stored; their events, not queued yet."""
    found = []
    now = datetime.now(UTC)
    for appointment in appointments:
        organisation = organisations[appointment.organisation]
        key = appointment_key(organisation.tenant, organisation.endpoint, f"csn:{appointment.csn}")
        links = harness.runtime.platform.tables.in_geography(Geography(organisation.geography), MeetingLinkRepository)
        links.upsert(
            MeetingLink(
                endpoint_id=organisation.endpoint,
                appointment_key=key,
                meeting_id=uuid.uuid4().hex,
                organizer_id="soak-organizer",
                join_url="https://teams.example/l/meetup-join/soak",
                browser_join_url="https://teams.example/l/meetup-join/soak?web=1",
                created_at=now,
                references=VisitReferences(csn=appointment.csn),
            )
        )
        events = []
        for k, guest in enumerate(_guests(appointment)):
            for step, side in enumerate(("activeParticipants@joined", "activeParticipants@exited")):
                moment = now + timedelta(seconds=10 * k + 5 * step)
                events.append(
                    MeetingEventMessage(
                        event_id=str(uuid.uuid4()),
                        subscription_id="soak",
                        tenant_id=organisation.tenant,
                        endpoint_id=organisation.endpoint,
                        appointment_key=key,
                        change_type="updated",
                        resource="communications/onlineMeetings/soak/meetingCallEvents",
                        data={
                            "eventType": "Microsoft.Communication.CallRosterUpdate",
                            "eventDateTime": moment.isoformat().replace("+00:00", "Z"),
                            side: [{"Id": guest, "Identity": {"Guest": {"Id": guest}}}],
                        },
                        received_at=moment,
                    )
                )
        found.append(Visit(organisation, appointment, events))
    return found


def queue_visit_events(harness: Harness, visits: list[Visit]) -> None:
    """The visits' events on their geography's queue, interleaved as a clinic's afternoon of calls is."""
    rounds = max((len(v.events) for v in visits), default=0)
    for index in range(rounds):
        for visit in visits:
            if index < len(visit.events):
                geography = Geography(visit.organisation.geography)
                harness.runtime.platform.geography_queues.send(geography, PARTICIPANT_EVENTS, visit.events[index])
