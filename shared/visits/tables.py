"""The visit tables, in the organisation's geography (data plane)."""

from __future__ import annotations

from shared.storage.repository import TableRepository
from shared.visits.models import Appointment, EhrUser, LateNotice, MeetingLink, VisitEvent, VisitInvite


class AppointmentRepository(
    TableRepository[Appointment], table="appointments", keys=("{endpoint_id}", "{appointment_key}")
):
    """Appointments as the EHR's scheduling messages describe them."""


class MeetingLinkRepository(
    TableRepository[MeetingLink], table="meetinglinks", keys=("{endpoint_id}", "{appointment_key}")
):
    """Appointment key -> meeting."""


class EhrUserRepository(TableRepository[EhrUser], table="ehrusers", keys=("{endpoint_id}", "{ehr_user_id}")):
    """EHR user ID -> meeting organizer."""


class VisitEventRepository(TableRepository[VisitEvent], table="visitevents", keys=("{appointment_key}", "{id}")):
    """A visit's events in one partition (data plane)."""


class VisitInviteRepository(TableRepository[VisitInvite], table="visitinvites", keys=("{appointment_key}", "{id}")):
    """A visit's guest and interpreter invites (data plane)."""


class LateNoticeRepository(
    TableRepository[LateNotice], table="latenotices", keys=("{endpoint_id}", "{appointment_key}")
):
    """Each visit's last "running late" text, no number (data plane)."""
