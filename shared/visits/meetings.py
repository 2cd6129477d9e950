"""One meeting per appointment key: the stored mapping first, else the meeting provider's create-or-get, then
the mapping is stored (in the organisation's geography) and the meeting's call events are subscribed to.
Concurrent first launches converge on one mapping (and only the launch that stored it subscribes)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from shared.core.clock import Clock
from shared.core.errors import Conflict, Forbidden, NotFound
from shared.setup.models import Organisation
from shared.setup.tables import OrganisationRepository
from shared.storage.routing import Tables
from shared.visits.models import Appointment, MeetingDialIn, MeetingLink, VisitReferences
from shared.visits.providers import Meeting, MeetingProvider, MeetingRequest, OrganizerRefused
from shared.visits.sessions import VisitSession
from shared.visits.tables import AppointmentRepository, MeetingLinkRepository

log = logging.getLogger(__name__)

MEETING_SUBJECT = "Virtual visit"  # no patient or clinician details go to the meeting service


@dataclass(kw_only=True, eq=False)
class VisitMeetings:
    tables: Tables
    meetings: MeetingProvider
    clock: Clock
    visit_length: timedelta
    service_organizer: str
    linked_organizer: Callable[[Organisation, str, str | None], str | None]
    """The linked organizer of an EHR user (organisation, endpoint ID, the appointment's provider ID), if any."""
    on_created: Callable[[Organisation, MeetingLink, datetime], object] | None = None
    """Called with the organisation, the new mapping and the meeting's end (writeback subscribes to its events)."""
    on_named: Callable[[str, MeetingLink], object] | None = None
    """Called with the tenant and the mapping when a launch names the EHR's Appointment of a meeting made before
    (a patient's link opened it first): what waited for that name (a patient's confirmation) can go now."""
    virtual_appointment: Callable[[str, str, str, str], str | None] | None = None
    """The Virtual Appointment join URL of a meeting (tenant, endpoint ID, organizer, meeting ID), if it has one."""

    def resolve(
        self,
        organisation: Organisation,
        endpoint_id: str,
        key: str,
        organizer_id: str | None = None,
        references: VisitReferences | None = None,
        appointment: Appointment | None = None,
        appointment_read: bool = False,
    ) -> MeetingLink:
        """The visit's meeting; `references` (the EHR's identifiers a launch brought) are added to its mapping,
        so that writebacks can name the visit to the EHR. `organizer_id`: the launching clinician's; None (a
        patient, a text's link) for the appointment's clinician when they are linked, else the service organizer.
        `appointment`: where the key has no appointment of its own to read times and clinician from (a group's
        meeting, first opened from a patient's text). `appointment_read`: the caller read the key's appointment
        (None: it has none), so it is not read again."""
        links = self.tables.data(organisation, MeetingLinkRepository)
        existing = links.find(endpoint_id, key)
        if existing is not None:
            if organizer_id is not None and organizer_id == existing.organizer_id:
                existing = self._virtual_appointment_later(organisation, links, existing)
            remembered = self._remember(links, existing, references)
            named = set(remembered.references.appointment_ids) - set(existing.references.appointment_ids)
            if named and self.on_named is not None:
                self.on_named(organisation.tenant_id, remembered)
            return remembered
        if appointment is None and not appointment_read:
            appointment = self.tables.data(organisation, AppointmentRepository).find(endpoint_id, key)
        now = self.clock.now()
        start, end = (appointment.start, appointment.end) if appointment else (now, now + self.visit_length)
        if organizer_id is None and appointment is not None:
            organizer_id = self.linked_organizer(organisation, endpoint_id, appointment.provider_id)
        meeting = self._create(key, organizer_id or self.service_organizer, start, end)
        link = MeetingLink(
            endpoint_id=endpoint_id,
            appointment_key=key,
            meeting_id=meeting.meeting_id,
            organizer_id=meeting.organizer_id,
            join_url=meeting.join_url,
            browser_join_url=meeting.browser_join_url,
            created_at=self.clock.now(),
            references=references or VisitReferences(),
            virtual_appointment_url=self._virtual_appointment_url(organisation, endpoint_id, meeting),
            dial_in=_dial_in(meeting),
        )
        try:
            links.create(link)
        except Conflict:  # another launch stored it first: everyone uses that meeting
            return self._remember(links, links.get(endpoint_id, key), references)
        if self.on_created is not None:
            self.on_created(organisation, link, end)
        return link

    def _virtual_appointment_url(self, organisation: Organisation, endpoint_id: str, meeting: Meeting) -> str | None:
        if self.virtual_appointment is None or meeting.organizer_id == self.service_organizer:
            return None  # delegated access is a clinician's: the service organizer signs in nowhere
        return self.virtual_appointment(organisation.tenant_id, endpoint_id, meeting.organizer_id, meeting.meeting_id)

    def _virtual_appointment_later(
        self, organisation: Organisation, links: MeetingLinkRepository, link: MeetingLink
    ) -> MeetingLink:
        """On its organizer's own launch, a meeting created without a Virtual Appointment join URL (the clinician
        had not granted it yet, or Microsoft did not answer) gets one, if it can now."""
        if link.virtual_appointment_url is not None or self.virtual_appointment is None:
            return link
        meeting = Meeting(link.meeting_id, link.organizer_id, link.join_url, link.browser_join_url)
        url = self._virtual_appointment_url(organisation, link.endpoint_id, meeting)
        if url is None:
            return link
        current = links.get_versioned(link.endpoint_id, link.appointment_key)
        updated = current.item.model_copy(update={"virtual_appointment_url": url})
        try:
            links.replace(updated, current.etag)
        except Conflict:  # a concurrent launch changed it: this one goes on with what it has
            return links.get(link.endpoint_id, link.appointment_key)
        return updated

    @staticmethod
    def _remember(links: MeetingLinkRepository, link: MeetingLink, references: VisitReferences | None) -> MeetingLink:
        """Add what the mapping does not know yet (a second appointment of a group visit, a department); a
        launch that finds it all known writes nothing."""
        for _ in range(3):
            if references is None or link.references.merged(references) == link.references:
                return link
            current = links.get_versioned(link.endpoint_id, link.appointment_key)
            updated = current.item.model_copy(update={"references": current.item.references.merged(references)})
            try:
                links.replace(updated, current.etag)
                return updated
            except Conflict:
                link = links.get(link.endpoint_id, link.appointment_key)
        return link

    def for_session(self, session: VisitSession, key: str) -> MeetingLink:
        """The meeting of the visit a clinician's EHR launch opened, for their visit panel."""
        if session.appointment_key != key:
            raise Forbidden("Your visit session is for another visit; start this one from the EHR.")
        organisation = self.tables.control(OrganisationRepository).find(session.tenant_id, "organisation")
        links = self.tables.data(organisation, MeetingLinkRepository) if organisation is not None else None
        link = links.find(session.endpoint_id, key) if links is not None and session.endpoint_id else None
        if link is None:
            raise NotFound("This visit's meeting is not known here; start the visit from the EHR again.")
        return link

    def _create(self, key: str, organizer: str, start: datetime, end: datetime) -> Meeting:
        request = MeetingRequest(external_id=key, organizer_id=organizer, subject=MEETING_SUBJECT, start=start, end=end)
        try:
            return self.meetings.create_or_get(request)
        except OrganizerRefused:
            if organizer == self.service_organizer:
                raise
            # A linked clinician the Teams application access policy does not cover (or who left): the visit
            # still happens, organised by the service organizer.
            log.warning("The meeting service refused a linked clinician as organizer; using the service organizer")
            return self.meetings.create_or_get(replace(request, organizer_id=self.service_organizer))


def _dial_in(meeting: Meeting) -> MeetingDialIn | None:
    dial_in = meeting.dial_in
    if dial_in is None:
        return None
    return MeetingDialIn(
        conference_id=dial_in.conference_id, toll_number=dial_in.toll_number, toll_free_number=dial_in.toll_free_number
    )
