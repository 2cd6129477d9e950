"""The `participant-events` processor: meeting notifications become visit events, stored once per event ID.

Graph's meetingCallEvents notifications carry `eventType` (`...CallStarted`, `...CallEnded`,
`...CallRosterUpdate`), `eventDateTime`, and for roster updates `activeParticipants@joined` / `@exited`, each
with an `Identity` (a `User` with its `TenantId`, or a guest / ACS identity). Roles: a user of the
organisation's own Entra tenant is a clinician; the first other participant is the patient; later ones are
guests (interpreters, family). The dev meeting page sends the same shape, plus lobby events.

Redelivered notifications map to the same rows; each event remembers whether it was written back to the EHR,
so a retry after a failed writeback writes back what is missing and nothing twice.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from shared.auth.principal import Principal, Role
from shared.clock import Clock
from shared.errors import Conflict, NotFound
from shared.models.organisation import Organisation
from shared.models.participants import (
    ConnectedParticipant,
    MeetingEventMessage,
    ParticipantRole,
    ParticipantStatus,
    VisitEvent,
    VisitEventKind,
)
from shared.storage.routing import Tables
from shared.storage.tables import FhirEndpointRepository, OrganisationRepository, VisitEventRepository

log = logging.getLogger(__name__)
CALL_EVENTS: dict[str, VisitEventKind] = {
    "callstarted": "call_started",
    "callended": "call_ended",
    "lobbyentered": "lobby_entered",
    "lobbyadmitted": "lobby_admitted",
}
Writeback = Callable[[Organisation, list[VisitEvent]], None]


def participant_key(tenant_id: str, provider_id: str) -> str:
    return hashlib.sha256(f"{tenant_id}|{provider_id}".encode()).hexdigest()[:24]


def _field(value: Any, name: str) -> Any:
    """A member of a Graph object, whatever the case of its name (Graph sends both)."""
    if not isinstance(value, dict):
        return None
    lowered = name.lower()
    return next((v for k, v in value.items() if k.lower() == lowered), None)


class ParticipantEvents:
    def __init__(self, tables: Tables, clock: Clock, writeback: Writeback | None = None) -> None:
        self._tables = tables
        self._clock = clock
        self._writeback = writeback

    def process(self, message: MeetingEventMessage) -> list[VisitEvent]:
        """Store the message's events (once); write back those not written back yet; the new ones."""
        organisation = self._tables.control(OrganisationRepository).find(message.tenant_id, "organisation")
        if organisation is None:
            raise NotFound("The organisation of this meeting no longer exists.")
        rows = self._tables.data(organisation, VisitEventRepository)
        known = list(rows.iterate(message.appointment_key))
        events = self._translate(message, known)
        stored: list[VisitEvent] = []
        created: list[VisitEvent] = []
        for event in events:
            try:
                rows.create(event)
                stored.append(event)
                created.append(event)
            except Conflict:
                stored.append(rows.get(event.appointment_key, event.id))  # a redelivery: the stored state
        pending = [e for e in stored if not e.written_back]
        if pending and self._writeback is not None:
            self._writeback(organisation, pending)  # raises on failure: the queue retries
            for event in pending:
                rows.upsert(event.model_copy(update={"written_back": True}))
        log.info("Meeting event for endpoint %s: %d visit events", message.endpoint_id, len(events))
        return created

    def status(self, principal: Principal, appointment_key: str) -> ParticipantStatus:
        """Who is connected now, for the organisation's portal admins (events of this organisation only)."""
        principal.require(Role.ADMIN)
        organisation = self._tables.control(OrganisationRepository).find(principal.tenant_id, "organisation")
        if organisation is None:
            raise NotFound("Your organisation is not set up yet.")
        events = sorted(
            self._tables.data(organisation, VisitEventRepository).iterate(appointment_key), key=lambda e: (e.at, e.id)
        )
        endpoints = self._tables.control(FhirEndpointRepository)
        if not events or endpoints.find(principal.tenant_id, events[0].endpoint_id) is None:
            raise NotFound("No meeting events are known for this visit.")
        connected: dict[str, ConnectedParticipant] = {}
        call_active = False
        for event in events:
            if event.kind == "call_started":
                call_active = True
            elif event.kind == "call_ended":
                call_active, connected = False, {}
            elif event.participant and event.role:
                if event.kind == "participant_joined":
                    connected.setdefault(
                        event.participant,
                        ConnectedParticipant(participant=event.participant, role=event.role, since=event.at),
                    )
                elif event.kind == "participant_left":
                    connected.pop(event.participant, None)
        people = sorted(connected.values(), key=lambda p: p.since)
        counts = {role: sum(1 for p in people if p.role == role) for role in ("clinician", "patient", "guest")}
        return ParticipantStatus(
            appointment_key=appointment_key,
            call_active=call_active or bool(people),
            connected=people,
            counts=counts,
            as_of=self._clock.now(),
        )

    def _translate(self, message: MeetingEventMessage, known: list[VisitEvent]) -> list[VisitEvent]:
        data = message.data
        kind = str(_field(data, "eventType") or _field(data, "callEventType") or "").rsplit(".", 1)[-1].lower()
        at = _moment(_field(data, "eventDateTime")) or message.received_at
        base = {"appointment_key": message.appointment_key, "endpoint_id": message.endpoint_id, "at": at}
        if kind in CALL_EVENTS:
            return [VisitEvent(id=f"{message.event_id}:0", kind=CALL_EVENTS[kind], **base)]
        if kind not in ("callrosterupdate", "rosterupdated"):
            log.info("Meeting event of an unknown type ignored")
            return []
        roles = {e.participant: e.role for e in known if e.participant and e.role}
        events: list[VisitEvent] = []
        for name, joined in (("activeParticipants@joined", True), ("activeParticipants@exited", False)):
            for participant in _field(data, name) or []:
                identity = _field(participant, "Identity") or {}
                provider_id = _identity_id(identity) or str(_field(participant, "Id") or "")
                if not provider_id:
                    continue
                key = participant_key(message.tenant_id, provider_id)
                role = roles.get(key) or self._role(message.tenant_id, identity, roles)
                roles[key] = role
                events.append(
                    VisitEvent(
                        id=f"{message.event_id}:{len(events)}",
                        kind="participant_joined" if joined else "participant_left",
                        participant=key,
                        role=role,
                        **base,
                    )
                )
        return events

    @staticmethod
    def _role(tenant_id: str, identity: Any, roles: dict[str, ParticipantRole]) -> ParticipantRole:
        user = _field(identity, "User")
        if user is not None and str(_field(user, "TenantId") or "").lower() == tenant_id.lower():
            return "clinician"
        return "guest" if "patient" in roles.values() else "patient"


def _identity_id(identity: Any) -> str | None:
    if isinstance(identity, dict):
        for value in identity.values():
            found = _field(value, "Id")
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
