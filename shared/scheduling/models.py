"""Scheduling: the HL7 message queued for the processor, and the reminder index (by due minute) and its cursor."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from shared.hl7.siu import AppointmentStatus, PhoneProblem, SiuEvent
from shared.visits.models import ReminderKind


class InboundHl7(BaseModel):
    """A verified message as received. Earlier versions queued these on `hl7-inbound` (in the app's account);
    that queue is still drained, and tests book appointments with it."""

    tenant_id: str
    endpoint_id: str
    control_id: str
    received_at: datetime
    message: str


class ReminderDue(BaseModel):
    """Reminder index (data plane): partitioned by the UTC minute it is due, so a tick reads only what is due."""

    minute: str  # YYYYMMDDHHMM
    tenant_id: str
    endpoint_id: str
    appointment_key: str
    due_at: datetime
    kind: ReminderKind = "reminder"  # entries written before there were three are the first reminder's


def index_row(endpoint_id: str, appointment_key: str, kind: str) -> str:
    """An index entry's row key: one per reminder of an appointment (the first keeps the key it always had)."""
    row = f"{endpoint_id}|{appointment_key}"
    return row if kind == "reminder" else f"{row}|{kind}"


class DueReminders(BaseModel):
    """The `reminders-due` queue message (in the geography's account): up to 100 reminders of one due minute,
    which its trigger turns into one `sms-outbound` message each. Keys and times only."""

    minute: str
    entries: list[ReminderDue]


class ReminderCursor(BaseModel):
    """The last minute a geography's reminder tick has handled."""

    geography: str
    last_minute: str


class AppointmentChange(BaseModel):
    """The `hl7-appointments` queue message, in the organisation's geography: what a verified, parsed scheduling
    message says about one appointment. No name, date of birth, MRN or EHR visit number (the appointment key is a
    hash of it); the phone number only when the endpoint sends texts, and then sealed (sealing.py)."""

    tenant_id: str
    endpoint_id: str
    control_id: str
    received_at: datetime
    appointment_key: str
    version: str  # MSH-7 and MSH-10: orders the messages of one appointment
    event: SiuEvent
    start: datetime
    end: datetime
    status: AppointmentStatus
    phone_sealed: str | None = None
    phone_problem: PhoneProblem | None = None
    provider_id: str | None = None
    locale: str | None = None  # the patient's language (PID-15) as a shipped locale; nothing else about them
    meeting_key: str | None = None  # a group visit's: the key its launches use (conference), shared by its patients


class LostLinkRequest(BaseModel):
    """The `lost-links` queue message (in the organisation's geography): a number typed on an endpoint's "I lost
    my link" page, sealed (bound to the endpoint), for the trigger to look up. Nothing else is kept of it."""

    tenant_id: str
    endpoint_id: str
    phone_sealed: str
    asked_at: datetime
