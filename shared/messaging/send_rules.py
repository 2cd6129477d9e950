"""Whether a queued text still goes: the appointment may have been cancelled, booked again, moved, or have
started since it was queued; a reminder is not sent late. A text is worded from the appointment as it is when sent."""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.hl7.siu import AppointmentStatus
from shared.messaging.models import SmsOutbound
from shared.messaging.texts import reminder_version
from shared.visits.models import REMINDER_KINDS, Appointment

SUPERSEDED = ("moved or already sent", "booked again")  # a newer message decides: no record for this one
CONFIRMATIONS = ("scheduled", "rescheduled")
TOLD = (*CONFIRMATIONS, "cancelled")  # the texts that tell the patient of a change


def reason_not_to_send(
    appointment: Appointment | None, message: SmsOutbound, now: datetime, reminder_max_late: timedelta
) -> str | None:
    """Why a queued text is not sent now (None: send it), from the appointment as it is stored."""
    if appointment is None:
        return "appointment removed"
    later = appointment.text_version
    if message.kind in TOLD and not message.resend and later is not None and message.version < later:
        # A later change queued its own text (a booking after a cancellation, a move): this one, held up by a retry
        # or a restart, would be worded from the appointment as it is now and repeat or contradict that one.
        return "moved or already sent"
    if message.kind == "cancelled":
        cancelled = (AppointmentStatus.CANCELLED, AppointmentStatus.DELETED)
        return None if appointment.status in cancelled else "booked again"
    if appointment.status != AppointmentStatus.BOOKED:
        return appointment.status.value
    if appointment.start <= now:
        return "started"
    if (
        message.kind in CONFIRMATIONS
        and message.version != appointment.version
        and appointment.pending_sms in CONFIRMATIONS
    ):
        # A later change queued its own confirmation, which tells the patient the same state (a text is worded
        # from the appointment as it is now): this one, held up by a retry or a restart, would say it twice.
        return "moved or already sent"
    if message.kind in REMINDER_KINDS and not message.resend:
        due = appointment.due_at(message.kind)
        if due is None or reminder_version(due) != message.version:
            return "moved or already sent"
        if now - due > reminder_max_late:
            return "stale"
    return None
