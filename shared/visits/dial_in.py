"""Dial-in on the way into a visit: when a patient's join link leads to a meeting whose organizer has audio
conferencing, the join page offers its phone number and conference ID next to the video link, so a patient
without data or a camera can still attend. The numbers are the meeting's, stored with it; nothing personal."""

from __future__ import annotations

from dataclasses import dataclass

from shared.setup.lookups import ControlLookups
from shared.storage.routing import Tables
from shared.visits.join_links import JoinLinks
from shared.visits.models import MeetingDialIn
from shared.visits.tables import AppointmentRepository, MeetingLinkRepository


@dataclass(frozen=True)
class DialInOffer:
    dial_in: MeetingDialIn
    locale: str


@dataclass(kw_only=True, eq=False)
class DialIns:
    tables: Tables
    join_links: JoinLinks
    lookups: ControlLookups

    def for_link(self, token: str) -> DialInOffer | None:
        """The dial-in of the meeting a patient's link (already let through) opened, and the patient's locale."""
        claims = self.join_links.decode(token)
        organisation = self.lookups.organisation(claims.tenant_id)
        endpoint = self.lookups.endpoint(claims.tenant_id, claims.endpoint_id)
        if organisation is None or endpoint is None:
            return None
        appointment = self.tables.data(organisation, AppointmentRepository).find(endpoint.id, claims.appointment_key)
        key = appointment.meeting_key if appointment is not None and appointment.meeting_key else None
        link = self.tables.data(organisation, MeetingLinkRepository).find(endpoint.id, key or claims.appointment_key)
        if link is None or link.dial_in is None:
            return None
        patients = appointment.locale if appointment is not None and claims.role == "patient" else None
        return DialInOffer(link.dial_in, patients or endpoint.patient_locale)
