"""Meeting events and EHR writeback: event subscriptions, queued events, visit events by role (no names), who is
connected now, per-endpoint writeback settings and failed writebacks."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.visits.models import ParticipantRole


class MeetingSubscription(BaseModel):
    """A change-notification subscription for one meeting's call events (data plane, in the organisation's
    geography). The clientState secret is kept only as a SHA-256 hash."""

    id: str
    tenant_id: str
    endpoint_id: str
    appointment_key: str
    client_state_hash: str
    meeting_id: str
    meeting_ends_at: datetime
    expires_at: datetime
    created_at: datetime


class MeetingJoin(BaseModel):
    """A meeting's join URL (as a SHA-256 hash) -> its visit (data plane): how a call record, which names only
    its meeting's join URL, finds its visit and organisation. Kept for 30 days after the meeting was first in use."""

    join_hash: str
    tenant_id: str
    endpoint_id: str
    appointment_key: str
    first_used_at: datetime = Field(description="When its first call event came (retention counts from it).")


class CallRecordSubscription(BaseModel):
    """The subscription to the tenant's Teams call records (control plane, one); its clientState as a hash."""

    id: str
    client_state_hash: str
    expires_at: datetime
    created_at: datetime


class CallRecordMessage(BaseModel):
    """A call record to read (the `call-records` queue): its ID and its tenant only."""

    record_id: str
    tenant_id: str | None = Field(
        default=None, description="The notification's tenant: whose geography holds the meeting (None: queued before)."
    )
    received_at: datetime


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


CONNECTS: frozenset[str] = frozenset({"participant_joined", "participant_left"})


class ConnectedParticipant(BaseModel):
    participant: str = Field(description="An opaque ID, stable within the visit (no name).")
    role: ParticipantRole
    since: datetime
    estimate: bool = Field(default=False, description="The role is a guess: the connector could not tell.")


class ParticipantStatus(BaseModel):
    """Who is in a visit's meeting now, by role (real-time status)."""

    appointment_key: str
    call_active: bool
    connected: list[ConnectedParticipant]
    lobby: list[ConnectedParticipant] = Field(default_factory=list, description="Waiting to be admitted.")
    counts: dict[str, int] = Field(description="Connected participants per role.")
    as_of: datetime


WritebackAdapter = Literal["none", "epic", "fhir"]


DEFAULT_EPIC_PATH = "/api/epic/2019/Telehealth/External/SetExternalConnectionStatus"


DEFAULT_VENDOR_NAME = "EHR virtual visits connector"


DEFAULT_SCOPES: dict[str, str] = {
    "none": "",
    "epic": "",
    "fhir": "system/AuditEvent.c system/Appointment.ru",
}


class WritebackSettingsUpdate(BaseModel):
    """How connect and disconnect events go back to this endpoint's EHR (SMART backend services)."""

    model_config = ConfigDict(extra="forbid")

    adapter: WritebackAdapter = Field(
        description="epic: the telehealth connection-status web service; fhir: an AuditEvent per connect and "
        "disconnect and the Appointment's status; none: no writeback."
    )
    client_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The backend-services client ID registered with the EHR (default: the endpoint's client ID).",
    )
    scope: str | None = Field(
        default=None, max_length=1000, description="Scopes asked for (default: what the adapter needs)."
    )
    epic_path: str = Field(
        default=DEFAULT_EPIC_PATH,
        max_length=500,
        pattern=r"^(/|https://|http://)",
        description="epic: the connection-status web service, a path under the EHR's server root (the FHIR base "
        "URL without its /api/FHIR/... part) or an https URL.",
    )
    vendor_name: str = Field(default=DEFAULT_VENDOR_NAME, min_length=1, max_length=100)

    @field_validator("epic_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not (value.startswith("/") or value.startswith("https://") or value.startswith("http://")):
            raise ValueError("must be a path starting with / or an https URL")
        return value


class WritebackSettings(WritebackSettingsUpdate):
    tenant_id: str
    endpoint_id: str
    updated_at: datetime
    updated_by: str

    @property
    def scopes(self) -> str:
        return self.scope if self.scope is not None else DEFAULT_SCOPES[self.adapter]


class WritebackSettingsPublic(WritebackSettingsUpdate):
    endpoint_id: str
    jwks_url: str = Field(description="Register this JWKS URL with the EHR for the backend-services client.")
    updated_at: datetime


FailureStatus = Literal["retrying", "failed", "replayed"]


class WritebackFailure(BaseModel):
    """A meeting event whose writeback failed (data plane). `retrying` while the queue retries it, `failed` once
    it is in the poison queue (or was refused for good), `replayed` after an admin sent it again."""

    tenant_id: str
    id: str  # the event's ID
    endpoint_id: str
    appointment_key: str
    status: FailureStatus
    attempts: int = 0
    last_error: str
    message: MeetingEventMessage
    first_failed_at: datetime
    last_failed_at: datetime
    replayed_at: datetime | None = None
    replayed_by: str | None = None


class WritebackFailurePublic(BaseModel):
    id: str
    endpoint_id: str
    appointment_key: str
    status: FailureStatus
    attempts: int
    last_error: str
    event_type: str
    first_failed_at: datetime
    last_failed_at: datetime
    replayed_at: datetime | None

    @classmethod
    def of(cls, failure: WritebackFailure) -> WritebackFailurePublic:
        data = failure.message.data
        kind = next((str(v) for k, v in data.items() if k.lower() in ("eventtype", "calleventtype")), "")
        return cls(
            **failure.model_dump(include=set(cls.model_fields) - {"event_type"}),
            event_type=kind.rsplit(".", 1)[-1],
        )


class WritebackFailureList(BaseModel):
    items: list[WritebackFailurePublic]
