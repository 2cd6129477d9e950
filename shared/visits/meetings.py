"""One meeting per appointment key: the stored mapping first, else the meeting provider's create-or-get, then
the mapping is stored (in the organisation's geography) and the meeting's call events are subscribed to.
Concurrent first launches converge on one mapping (and only the launch that stored it subscribes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.core.clock import Clock
from shared.core.errors import Conflict, Forbidden, NotFound
from shared.setup.models import Organisation
from shared.setup.tables import OrganisationRepository
from shared.storage.routing import Tables
from shared.visits.models import MeetingLink, VisitReferences
from shared.visits.providers import MeetingProvider, MeetingRequest
from shared.visits.sessions import VisitSession
from shared.visits.tables import AppointmentRepository, MeetingLinkRepository

MEETING_SUBJECT = "Virtual visit"  # no patient or clinician details go to the meeting service


@dataclass(kw_only=True, eq=False)
class VisitMeetings:
    tables: Tables
    meetings: MeetingProvider
    clock: Clock
    visit_length: timedelta
    on_created: Callable[[str, MeetingLink, datetime], object] | None = None
    """Called with the tenant, the new mapping and the meeting's end (writeback subscribes to its events)."""

    def resolve(
        self,
        organisation: Organisation,
        endpoint_id: str,
        key: str,
        organizer_id: str,
        references: VisitReferences | None = None,
        times: tuple[datetime, datetime] | None = None,
    ) -> MeetingLink:
        """The visit's meeting; `references` (the EHR's identifiers a launch brought) are added to its mapping,
        so that writebacks can name the visit to the EHR. `times`: the meeting's start and end, where the key has no
        appointment of its own to read them from (a group's meeting, first opened from a patient's text)."""
        links = self.tables.data(organisation, MeetingLinkRepository)
        existing = links.find(endpoint_id, key)
        if existing is not None:
            return self._remember(links, existing, references)
        start, end = times or self._times(organisation, endpoint_id, key)
        meeting = self.meetings.create_or_get(
            MeetingRequest(external_id=key, organizer_id=organizer_id, subject=MEETING_SUBJECT, start=start, end=end)
        )
        link = MeetingLink(
            endpoint_id=endpoint_id,
            appointment_key=key,
            meeting_id=meeting.meeting_id,
            organizer_id=meeting.organizer_id,
            join_url=meeting.join_url,
            browser_join_url=meeting.browser_join_url,
            created_at=self.clock.now(),
            references=references or VisitReferences(),
        )
        try:
            links.create(link)
        except Conflict:  # another launch stored it first: everyone uses that meeting
            return self._remember(links, links.get(endpoint_id, key), references)
        if self.on_created is not None:
            self.on_created(organisation.tenant_id, link, end)
        return link

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

    def _times(self, organisation: Organisation, endpoint_id: str, key: str) -> tuple[datetime, datetime]:
        appointment = self.tables.data(organisation, AppointmentRepository).find(endpoint_id, key)
        if appointment is not None:
            return appointment.start, appointment.end
        now = self.clock.now()
        return now, now + self.visit_length
