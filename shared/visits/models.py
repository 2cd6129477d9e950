"""What the connector keeps about a visit: its appointment (times, status, the phone number until it has taken place),
its meeting, and the EHR user IDs of the clinicians who launched it. Nothing else about the patient."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.hl7.siu import AppointmentStatus


def appointment_key(tenant_id: str, endpoint_id: str, reference: str) -> str:
    """The visit's key: stable for the same organisation, endpoint and appointment (or group conference)
    reference, and opaque, so that neither the meeting service nor a join link sees the EHR's identifiers."""
    return hashlib.sha256(f"{tenant_id}|{endpoint_id}|{reference}".encode()).hexdigest()[:40]


class VisitReferences(BaseModel):
    """The EHR's own identifiers of a visit, from its launches: what a writeback must name. Kept beside the
    meeting mapping in the organisation's geography; no patient details."""

    conference_id: str | None = None
    csn: str | None = None
    appointment_ids: list[str] = Field(default_factory=list)
    department_id: str | None = None

    def merged(self, other: VisitReferences) -> VisitReferences:
        return VisitReferences(
            conference_id=self.conference_id or other.conference_id,
            csn=self.csn or other.csn,
            appointment_ids=self.appointment_ids + [a for a in other.appointment_ids if a not in self.appointment_ids],
            department_id=self.department_id or other.department_id,
        )


class MeetingDialIn(BaseModel):
    """How to join the meeting by phone (its organizer has audio conferencing): the meeting's, not a person's."""

    conference_id: str
    toll_number: str | None = None
    toll_free_number: str | None = None

    @property
    def number(self) -> str:
        return self.toll_free_number or self.toll_number or ""


class MeetingLink(BaseModel):
    """Appointment key -> meeting (data plane, in the organisation's geography)."""

    endpoint_id: str
    appointment_key: str
    meeting_id: str
    organizer_id: str
    join_url: str
    browser_join_url: str
    created_at: datetime
    references: VisitReferences = Field(default_factory=VisitReferences)
    dial_in: MeetingDialIn | None = None
    virtual_appointment_url: str | None = None
    """The meeting's Teams Virtual Appointment join URL, where its organizer's delegated grant gave one."""

    @property
    def patient_url(self) -> str:
        """Where patients and their guests join: the Virtual Appointment, else the Teams browser join."""
        return self.virtual_appointment_url or self.browser_join_url


SmsType = Literal[
    "scheduled",
    "rescheduled",
    "cancelled",
    "reminder",
    "reminder2",
    "reminder3",
    "invite",
    "confirmed",
    "survey",
    "late",
    "link-resend",
]
ReminderKind = Literal["reminder", "reminder2", "reminder3"]
REMINDER_KINDS: tuple[ReminderKind, ...] = ("reminder", "reminder2", "reminder3")
# Where an appointment keeps each reminder's due time: the first keeps the field rows stored before there were three.
REMINDER_DUE_FIELDS: dict[str, str] = {
    "reminder": "reminder_due_at",
    "reminder2": "reminder2_due_at",
    "reminder3": "reminder3_due_at",
}


class Appointment(BaseModel):
    """A scheduled visit as the EHR's scheduling messages describe it (data plane). The phone number is kept
    only until the appointment has taken place."""

    endpoint_id: str
    appointment_key: str
    start: datetime
    end: datetime
    status: AppointmentStatus = AppointmentStatus.BOOKED
    version: str = ""
    phone: str | None = None
    phone_problem: str | None = None
    provider_id: str | None = Field(
        default=None, description="The clinician's EHR user ID (AIP-3), the only thing kept about them."
    )
    meeting_key: str | None = Field(
        default=None, description="A group visit's meeting (SCH-4), shared by its patients and its launches."
    )
    locale: str | None = Field(
        default=None, description="The locale the patient reads (from PID-15, else the endpoint's default)."
    )
    reminder_due_at: datetime | None = None
    reminder2_due_at: datetime | None = None
    reminder3_due_at: datetime | None = None
    pending_sms: SmsType | None = Field(default=None, description="The confirmation this version queued.")
    text_version: str | None = Field(
        default=None, description="The version of the latest change that queued a confirmation or cancellation text."
    )
    confirmed_at: datetime | None = Field(
        default=None, description="When the patient confirmed by replying to a text (what they wrote is not kept)."
    )

    def due_at(self, kind: str) -> datetime | None:
        """When the reminder of `kind` is due (None: not pending, or not a reminder)."""
        field = REMINDER_DUE_FIELDS.get(kind)
        return getattr(self, field) if field else None


class EhrUser(BaseModel):
    endpoint_id: str = Field(description="The FHIR endpoint the user signed in through.")
    ehr_user_id: str = Field(description="The EHR's unique ID of the user (fhirUser reference or user ID).")
    organizer_id: str | None = Field(
        default=None, description="The clinician's Entra ID object ID, once they have signed in to Microsoft 365."
    )
    linked_at: datetime | None = None
    last_seen_at: datetime
    grant_asked_at: datetime | None = Field(
        default=None, description="When the clinician was last asked for the Virtual Appointment grant."
    )


class ClinicianLink(BaseModel):
    """A clinician who has launched visits through an endpoint, and whether their meetings are their own."""

    ehr_user_id: str = Field(description="The EHR's ID of the clinician (the launch's fhirUser).")
    linked: bool = Field(description="Whether they signed in to Microsoft 365, so that they organise their meetings.")
    organizer_id: str | None = Field(description="Their Entra ID object ID, when linked.")
    linked_at: datetime | None
    last_seen_at: datetime


class ClinicianPage(BaseModel):
    items: list[ClinicianLink]
    continuation: str | None = None


class ClinicianUnlink(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ehr_user_id: str = Field(min_length=1, max_length=500, description="The clinician to unlink.")


VisitEventKind = Literal[
    "call_started",
    "call_ended",
    "participant_joined",
    "participant_left",
    "lobby_entered",
    "lobby_admitted",
    "patient_sent",  # the connector sent a patient to the meeting (patient launch, SMS link): lobby wait estimates
    "guest_sent",  # a guest's or interpreter's link was opened: who a participant is, not a patient
]


ParticipantRole = Literal["clinician", "patient", "guest"]


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
    link: str | None = Field(
        default=None,
        description="Whose link was opened (a patient's: a hash of their appointment key), on a sent event; on a "
        "participant's, the opened link they were matched to.",
    )
    estimate: bool = Field(
        default=False, description="The participant's role is a guess: the connector could not tell who they are."
    )


InviteRole = Literal["guest", "interpreter"]
PHONE_PATTERN = r"^\+?[0-9]{6,15}$"  # E.164, or a national number of the organisation's SMS country


class VisitInvite(BaseModel):
    """A guest or interpreter invited to one visit (data plane): the number the link was texted to is kept only
    until the visit's links stop working, as patients' numbers are."""

    appointment_key: str
    id: str
    endpoint_id: str
    role: InviteRole
    phone: str | None = None
    texted: bool = False
    created_at: datetime
    ends_at: datetime = Field(description="When the invite's link stops working; its number is deleted then.")


class InviteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: InviteRole = Field(description="guest (family, a carer, another clinician) or interpreter.")
    phone: str | None = Field(
        default=None,
        pattern=PHONE_PATTERN,
        description="A mobile number to text the link to (E.164, or without its country code for the "
        "organisation's SMS country); leave it out to copy the link instead.",
    )


class InvitePublic(BaseModel):
    id: str
    role: InviteRole
    texted: bool = Field(description="Whether the link was queued as a text to the number given.")
    phone_masked: str | None = Field(description="The number's last digits, while it is kept.")
    created_at: datetime
    ends_at: datetime
    join_url: str | None = Field(
        default=None, description="The invite's join link (only in the answer that creates it): they wait in the lobby."
    )


class InviteList(BaseModel):
    items: list[InvitePublic]


LateMinutes = Literal[5, 10, 15]


class LateNotice(BaseModel):
    """The last "running late" text of a visit (data plane): when it went, so another waits 5 minutes."""

    endpoint_id: str
    appointment_key: str
    minutes: int
    sent_at: datetime


class LateNoticeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    minutes: LateMinutes = Field(description="About how many minutes late the clinician will be: 5, 10 or 15.")


class LateNoticePublic(BaseModel):
    minutes: int
    sent_at: datetime
    texted: int = Field(description="How many patients' texts were queued (a group visit has several).")
