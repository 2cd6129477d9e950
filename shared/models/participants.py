"""Meeting events: the provider subscriptions that deliver them, and the `participant-events` queue message."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class MeetingSubscription(BaseModel):
    """A change-notification subscription for one meeting's call events (control plane). The clientState secret
    is kept only as a SHA-256 hash."""

    id: str
    tenant_id: str
    endpoint_id: str
    appointment_key: str
    client_state_hash: str
    meeting_id: str
    meeting_ends_at: datetime
    expires_at: datetime
    created_at: datetime


class MeetingEventMessage(BaseModel):
    """One notification, as queued for the processor: where it belongs and what happened, never a name."""

    event_id: str
    subscription_id: str
    tenant_id: str
    endpoint_id: str
    appointment_key: str
    change_type: str
    resource: str
    data: dict[str, Any] = Field(default_factory=dict, description="resourceData without display names.")
    received_at: datetime
    replayed: bool = Field(default=False, description="Sent again by an admin after its writeback failed.")


VisitEventKind = Literal[
    "call_started", "call_ended", "participant_joined", "participant_left", "lobby_entered", "lobby_admitted"
]
ParticipantRole = Literal["clinician", "patient", "guest"]
CONNECTS: frozenset[str] = frozenset({"participant_joined", "participant_left"})


class VisitEvent(BaseModel):
    """Something that happened in a visit's meeting (data plane, the organisation's geography). No names: the
    participant is a keyed hash of the provider's participant ID, enough to pair a join with its leave."""

    appointment_key: str
    id: str  # the notification's ID and the event's position in it: a redelivery maps to the same rows
    endpoint_id: str
    kind: VisitEventKind
    at: datetime
    participant: str | None = None
    role: ParticipantRole | None = None
    written_back: bool = False


class ConnectedParticipant(BaseModel):
    participant: str = Field(description="An opaque ID, stable within the visit (no name).")
    role: ParticipantRole
    since: datetime


class ParticipantStatus(BaseModel):
    """Who is in a visit's meeting now, by role (real-time status)."""

    appointment_key: str
    call_active: bool
    connected: list[ConnectedParticipant]
    lobby: list[ConnectedParticipant] = Field(default_factory=list, description="Waiting to be admitted.")
    counts: dict[str, int] = Field(description="Connected participants per role.")
    as_of: datetime
