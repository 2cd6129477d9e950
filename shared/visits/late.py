""" "Running late": from their visit panel, the clinician whose EHR launch opened a visit texts its waiting patient
(each patient of a group visit) that they will be about 5, 10 or 15 minutes late. At most one such text per visit
every 5 minutes (the visit's last one is a row of its own, claimed with its ETag, so two taps at once send one);
audited, never with a number. The text itself is the messaging feature's (queued like every text)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.core.clock import Clock
from shared.core.errors import Conflict, Forbidden, NotFound
from shared.hl7.siu import AppointmentStatus
from shared.setup.audit import AuditLog
from shared.setup.models import Organisation
from shared.setup.tables import OrganisationRepository
from shared.storage.repository import Versioned
from shared.storage.routing import Tables
from shared.visits.models import Appointment, LateNotice, LateNoticeCreate, LateNoticePublic
from shared.visits.sessions import VisitSession
from shared.visits.tables import AppointmentRepository, LateNoticeRepository

EVERY = timedelta(minutes=5)


@dataclass(kw_only=True, eq=False)
class RunningLate:
    tables: Tables
    audit: AuditLog
    clock: Clock
    text: Callable[[Organisation, Appointment, int, datetime], str | None]
    """Queue the patient's late notice (asked of the messaging feature); why it cannot go, or None once queued."""

    def notify(self, session: VisitSession | None, key: str, request: LateNoticeCreate) -> LateNoticePublic:
        if session is None or session.endpoint_id is None:
            raise Forbidden("Only the clinician of this visit can say they are late: start the visit from the EHR.")
        if session.appointment_key != key:
            raise Forbidden("Your visit session is for another visit; start this one from the EHR.")
        organisation = self.tables.control(OrganisationRepository).find(session.tenant_id, "organisation")
        if organisation is None:
            raise NotFound("This visit's organisation is gone; start the visit from the EHR again.")
        patients = self._waiting(organisation, session.endpoint_id, key)
        if not patients:
            raise Conflict("This visit has no patient with a mobile number to text, so no late notice can go.")
        now = self.clock.now()
        notices = self.tables.data(organisation, LateNoticeRepository)
        try:
            last: Versioned[LateNotice] | None = notices.get_versioned(session.endpoint_id, key)
        except NotFound:
            last = None
        if last is not None and now - last.item.sent_at < EVERY:
            wait = math.ceil((last.item.sent_at + EVERY - now).total_seconds() / 60)
            raise Conflict(
                f"The patient was told you are about {last.item.minutes} minutes late less than 5 minutes ago; "
                f"another late notice can go in {wait} minute{'s' if wait > 1 else ''}."
            )
        notice = LateNotice(endpoint_id=session.endpoint_id, appointment_key=key, minutes=request.minutes, sent_at=now)
        try:  # the claim: of two taps at once, one gets the row
            notices.replace(notice, last.etag) if last is not None else notices.create(notice)
        except (Conflict, NotFound):
            raise Conflict("A late notice for this visit has just gone; another can go in 5 minutes.") from None
        refusals = [self.text(organisation, patient, request.minutes, now) for patient in patients]
        texted = sum(1 for refused in refusals if refused is None)
        if not texted:
            notices.delete(session.endpoint_id, key)  # nothing went: the next tap may try again
            raise Conflict(f"The late notice cannot be texted: {refusals[0]}.")
        self.audit.record(
            tenant_id=organisation.tenant_id,
            user_id="clinician (EHR launch)",
            action="notify_late",
            entity="visit",
            entity_id=session.endpoint_id,  # the endpoint's: a visit's key is data of its geography, not the app's
            fields=("minutes",),
        )
        return LateNoticePublic(minutes=request.minutes, sent_at=now, texted=texted)

    def _waiting(self, organisation: Organisation, endpoint_id: str, key: str) -> list[Appointment]:
        """The visit's booked patients with a number: its appointment, or a group visit's appointments."""
        appointments = self.tables.data(organisation, AppointmentRepository)
        found = appointments.find(endpoint_id, key)
        if found is not None:
            group = [found]
        else:
            group = list(appointments.iterate(endpoint_id, query="meeting_key eq @k", parameters={"k": key}))
        return [a for a in group if a.status == AppointmentStatus.BOOKED and a.phone and a.end > self.clock.now()]
