"""The `participant-events` processor: meeting notifications become visit events, stored once per event ID.

Graph's meetingCallEvents notifications carry `eventType` (`...CallStarted`, `...CallEnded`, `...CallRosterUpdate`),
`eventDateTime`, and for roster updates `activeParticipants@joined` / `@exited`, each with an `Identity` (a `User`
with its `TenantId`, or a guest / ACS identity). Roles come from attribution.py: a user of the organisation's own
Entra tenant is a clinician; others are matched to the links the connector opened (patients', guests',
interpreters'), and where that cannot tell, the role is marked an estimate. The dev meeting page sends the same
shape, plus lobby events. Redelivered notifications map to the same rows; each event remembers whether it was
written back, so a retry writes back what is missing and nothing twice; the exception is an instance dying between
the EHR's answer and the store (Epic's connection status takes no idempotency key): that event goes again.

The Functions host runs a batch's messages in parallel: a worker takes one visit's notifications one at a time (a
lock per visit), each reading what the one before stored; visits run side by side. Known gap: two instances taking
one visit's notifications at once each summarise from their own read, and the last summary may miss an event.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.auth.principal import Principal, Role
from shared.core import telemetry
from shared.core.clock import Clock
from shared.core.errors import Forbidden, NotFound
from shared.core.ttl import TtlCache
from shared.reports.summary import summarise
from shared.reports.tables import VisitSummaryRepository
from shared.setup.lookups import LOOKUP_TTL
from shared.setup.models import Organisation
from shared.setup.tables import FhirEndpointRepository, OrganisationRepository
from shared.storage.routing import Tables
from shared.visits.join_links import JoinRole
from shared.visits.models import MeetingLink, VisitEvent, VisitEventKind, VisitReferences
from shared.visits.sessions import VisitSession
from shared.visits.tables import MeetingLinkRepository, VisitEventRepository
from shared.writeback.attribution import SENT, Attribution, field_of, whose_link
from shared.writeback.delivery import EhrWriteback
from shared.writeback.ehr import WritebackError
from shared.writeback.event_rows import marking, store_patiently
from shared.writeback.failures import WritebackFailures
from shared.writeback.models import ConnectedParticipant, MeetingEventMessage, ParticipantStatus

log = logging.getLogger(__name__)


VISIT_LOCKS = tuple(threading.Lock() for _ in range(256))  # striped: a visit always takes the same one

CALL_EVENTS: dict[str, VisitEventKind] = {
    "callstarted": "call_started",
    "callended": "call_ended",
    "lobbyentered": "lobby_entered",
    "lobbyadmitted": "lobby_admitted",
}


def participant_key(tenant_id: str, provider_id: str) -> str:
    return hashlib.sha256(f"{tenant_id}|{provider_id}".encode()).hexdigest()[:24]


@dataclass(kw_only=True, eq=False)
class ParticipantEvents:
    tables: Tables
    clock: Clock
    writeback: EhrWriteback | None = None
    failures: WritebackFailures | None = None
    on_first_event: Callable[[Organisation, MeetingLink], object] | None = None
    """The meeting service's first word about a visit's meeting (call records then look for it)."""
    on_call_ended: Callable[[Organisation, str, str], object] | None = None
    """A visit's call ended with a patient in it (organisation, endpoint ID, meeting key): post-visit surveys."""
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        # The organisation (its geography, its tenant) is read once a minute per worker, not on every event.
        self._organisations: TtlCache[str, Organisation | None] = TtlCache(self.clock, LOOKUP_TTL)

    def process(self, message: MeetingEventMessage, attempt: int = 1) -> list[VisitEvent]:
        """Store the message's events (once), update the visit's report figures and write back to the EHR what
        was not written back yet; the new events. Raises WritebackError when a retry may succeed."""
        with VISIT_LOCKS[hash((message.tenant_id, message.appointment_key)) % len(VISIT_LOCKS)]:
            return self._process(message, attempt)

    def _process(self, message: MeetingEventMessage, attempt: int) -> list[VisitEvent]:
        telemetry.bind(
            tenant_id=message.tenant_id, endpoint_id=message.endpoint_id, appointment_key=message.appointment_key
        )
        organisation = self._organisations.get(
            message.tenant_id,
            lambda: self.tables.control(OrganisationRepository).find(message.tenant_id, "organisation"),
        )
        if organisation is None:
            self._organisations.forget(message.tenant_id)
            raise NotFound("The organisation of this meeting no longer exists.")
        rows = self.tables.data(organisation, VisitEventRepository)
        known = {e.id: e for e in rows.iterate(message.appointment_key)}
        first_before = min((e.at for e in known.values()), default=None)
        heard_before = any(e.kind not in SENT for e in known.values())  # from the meeting service
        target = self.writeback.target(organisation, message.endpoint_id) if self.writeback else None
        events = self._translate(message, list(known.values()))
        link = self.tables.data(organisation, MeetingLinkRepository).find(message.endpoint_id, message.appointment_key)
        if events and not heard_before and link is not None and self.on_first_event is not None:
            # The meeting is in use: its call records will come. Before the events are stored, so that when this
            # fails the redelivery (which finds no events stored) does it again.
            self.on_first_event(organisation, link)
        ended = any(e.kind == "call_ended" and e.id not in known for e in events)
        if ended and self.on_call_ended is not None and _patient_came([*known.values(), *events]):
            self.on_call_ended(organisation, message.endpoint_id, message.appointment_key)  # before storing: see above
        new = [e for e in events if e.id not in known]  # a redelivery: the stored state of the others counts
        for event in new:
            event.written_back = target is None  # nothing to write back for this endpoint
        references = link.references if link is not None else VisitReferences()
        history = [*known.values(), *new]
        pending = [known.get(e.id, e) for e in events if not known.get(e.id, e).written_back]
        failure: WritebackError | None = None
        updated: list[VisitEvent] = []  # stored events written back on this retry
        if pending and target is not None and self.writeback is not None:
            # Written back before the new events are stored, so that each is stored once with its outcome (one
            # entity group transaction, not an insert and then an update). A crash between the EHR's answer and
            # the store repeats that event's writeback on redelivery, as a crash before the update did.
            try:
                self.writeback.write(target, references, history, pending, marking(new, updated))
            except WritebackError as error:
                failure = error
        written = bool(updated) or any(e.written_back for e in new)  # the EHR took them: not to be given up lightly
        created = store_patiently(rows, new, updated, known, written=written, sleep=self.sleep)
        if created:
            self._summarise(organisation, list(known.values()), references, first_before)
        if failure is not None:
            if self.failures is not None:
                self.failures.record(organisation, message, failure, attempt)
            if failure.retryable:
                raise failure  # the queue delivers it again, and after maxDequeueCount it is poison
            return created
        if self.failures is not None and (attempt > 1 or message.replayed):
            self.failures.resolve(organisation, message)
        log.info("Meeting event for endpoint %s: %d visit events", message.endpoint_id, len(events))
        return created

    def patient_sent(
        self,
        organisation: Organisation,
        endpoint_id: str,
        key: str,
        *,
        role: JoinRole = "patient",
        whose: str | None = None,
    ) -> None:
        """The connector sent someone to the meeting (a patient launch, a join link): who a later participant is,
        and where an estimated lobby wait starts when the meeting service reports no lobby events. Nothing is
        written back for it."""
        now = self.clock.now()
        patient = role == "patient"
        self.tables.data(organisation, VisitEventRepository).upsert(
            VisitEvent(
                appointment_key=key,
                id=f"sent|{now:%Y%m%dT%H%M%S%f}",
                endpoint_id=endpoint_id,
                kind="patient_sent" if patient else "guest_sent",
                at=now,
                role="patient" if patient else "guest",
                link=whose_link(organisation.tenant_id, whose) if patient and whose else None,
                written_back=True,
            )
        )

    def _summarise(
        self,
        organisation: Organisation,
        history: list[VisitEvent],
        references: VisitReferences,
        first_before: datetime | None,
    ) -> None:
        summary = summarise(
            history, tenant_id=organisation.tenant_id, department_id=references.department_id, now=self.clock.now()
        )
        if summary is None:
            return
        summaries = self.tables.data(organisation, VisitSummaryRepository)
        summaries.upsert(summary)
        if first_before is not None and first_before.strftime("%Y%m%d") != summary.day:
            # An earlier event arrived late, on an earlier day: the row moved to that day's keys.
            summaries.delete(organisation.tenant_id, f"{first_before:%Y%m%d}|{summary.appointment_key}")

    def status(self, principal: Principal, appointment_key: str) -> ParticipantStatus:
        """Who is connected now, for the organisation's portal admins (events of this organisation only)."""
        principal.require(Role.ADMIN)
        return self._status(principal.tenant_id, appointment_key)

    def status_for_session(self, session: VisitSession, appointment_key: str) -> ParticipantStatus:
        """The same, for the clinician whose EHR launch opened this visit."""
        if session.appointment_key != appointment_key:
            raise Forbidden("Your visit session is for another visit; launch this one from the EHR.")
        return self._status(session.tenant_id, appointment_key)

    def _status(self, tenant_id: str, appointment_key: str) -> ParticipantStatus:
        organisation = self.tables.control(OrganisationRepository).find(tenant_id, "organisation")
        if organisation is None:
            raise NotFound("Your organisation is not set up yet.")
        events = sorted(
            self.tables.data(organisation, VisitEventRepository).iterate(appointment_key), key=lambda e: (e.at, e.id)
        )
        endpoints = self.tables.control(FhirEndpointRepository)
        if not events or endpoints.find(tenant_id, events[0].endpoint_id) is None:
            raise NotFound("No meeting events are known for this visit.")
        connected: dict[str, ConnectedParticipant] = {}
        lobby: dict[str, ConnectedParticipant] = {}
        call_active = False
        for event in events:
            if event.kind == "call_started":
                call_active = True
            elif event.kind == "call_ended":
                call_active, connected, lobby = False, {}, {}
            elif event.participant and event.role:
                here = ConnectedParticipant(
                    participant=event.participant, role=event.role, since=event.at, estimate=event.estimate
                )
                if event.kind == "lobby_entered":
                    lobby.setdefault(event.participant, here)
                elif event.kind == "participant_joined":
                    lobby.pop(event.participant, None)
                    connected.setdefault(event.participant, here)
                elif event.kind == "participant_left":
                    connected.pop(event.participant, None)
                    lobby.pop(event.participant, None)
                elif event.kind == "lobby_admitted":
                    lobby.pop(event.participant, None)
        people = sorted(connected.values(), key=lambda p: p.since)
        counts = {role: sum(1 for p in people if p.role == role) for role in ("clinician", "patient", "guest")}
        return ParticipantStatus(
            appointment_key=appointment_key,
            call_active=call_active or bool(people),
            connected=people,
            lobby=sorted(lobby.values(), key=lambda p: p.since),
            counts=counts,
            as_of=self.clock.now(),
        )

    def _translate(self, message: MeetingEventMessage, known: list[VisitEvent]) -> list[VisitEvent]:
        data = message.data
        kind = str(field_of(data, "eventType") or field_of(data, "callEventType") or "").rsplit(".", 1)[-1].lower()
        at = _moment(field_of(data, "eventDateTime")) or message.received_at
        base = {"appointment_key": message.appointment_key, "endpoint_id": message.endpoint_id, "at": at}
        roles = Attribution(message.tenant_id, known)
        if kind in CALL_EVENTS:
            who = self._participant(message.tenant_id, field_of(data, "participant"), roles)
            return [VisitEvent(id=f"{message.event_id}:0", kind=CALL_EVENTS[kind], **who, **base)]
        if kind not in ("callrosterupdate", "rosterupdated"):
            log.info("Meeting event of an unknown type ignored")
            return []
        events: list[VisitEvent] = []
        for name, joined in (("activeParticipants@joined", True), ("activeParticipants@exited", False)):
            for participant in field_of(data, name) or []:
                who = self._participant(message.tenant_id, participant, roles)
                if not who:
                    continue
                kind_of: VisitEventKind = "participant_joined" if joined else "participant_left"
                events.append(VisitEvent(id=f"{message.event_id}:{len(events)}", kind=kind_of, **who, **base))
        return events

    def _participant(self, tenant_id: str, participant: Any, roles: Attribution) -> dict[str, Any]:
        """A participant's opaque key and role (and whether the role is a guess), or nothing when it names
        nobody."""
        identity = field_of(participant, "Identity") or {}
        provider_id = _identity_id(identity) or str(field_of(participant, "Id") or "")
        if not provider_id:
            return {}
        key = participant_key(tenant_id, provider_id)
        found = roles.of(key, identity)
        return {"participant": key, "role": found.role, "estimate": found.estimate, "link": found.link}


def _patient_came(events: list[VisitEvent]) -> bool:
    return any(e.kind == "participant_joined" and e.role == "patient" for e in events)


def _identity_id(identity: Any) -> str | None:
    if isinstance(identity, dict):
        for value in identity.values():
            found = field_of(value, "Id")
            if found:
                return str(found)
    return None


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
