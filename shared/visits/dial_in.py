"""Dial-in on the way into a visit: when a patient's join link leads to a meeting whose organizer has audio
conferencing, the join page offers its phone number and conference ID next to the video link, so a patient
without data or a camera can still attend. The numbers are the meeting's, stored with it; nothing personal."""

from __future__ import annotations

from dataclasses import dataclass

from shared.setup.models import FhirEndpoint
from shared.visits.join_links import JoinRole
from shared.visits.models import Appointment, MeetingDialIn, MeetingLink


@dataclass(frozen=True)
class DialInOffer:
    dial_in: MeetingDialIn
    locale: str


@dataclass(frozen=True)
class Joined:
    """Where a join link sends its browser, and the meeting's dial-in to offer on the way, if it has one."""

    url: str
    dial_in: DialInOffer | None


def dial_in_offer(
    endpoint: FhirEndpoint, appointment: Appointment | None, link: MeetingLink, role: JoinRole
) -> DialInOffer | None:
    """The dial-in of the meeting a patient's link (already let through) opened, in the patient's locale (a
    guest's: the endpoint's patients' language); None when the meeting has none."""
    if link.dial_in is None:
        return None
    patients = appointment.locale if appointment is not None and role == "patient" else None
    return DialInOffer(link.dial_in, patients or endpoint.patient_locale)
