"""Post-visit surveys, where the endpoint's SMS settings turn them on (`survey_after_visit`).

- When a visit's call ends with a patient in it, each of its appointments with a number kept (a group's patients
  each have theirs) gets one text, queued on `sms-outbound` like every text (keys only) and sent by the dispatcher
  after its usual checks (sender number, consents, no STOP). The text's record is keyed by the appointment, so a
  call that ends twice texts once.
- The text links to the survey page (survey_links.py); the survey row is made when its text is composed: what the
  report counts as sent.
- The page's answers (a rating from 1 to 5, and yes or no) are kept once, on the row, with the appointment key
  only. Sending the same answers again is fine; other answers after the first are refused, as is a link after the
  survey closes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from shared.core.clock import Clock
from shared.core.errors import Conflict, NotFound
from shared.core.i18n import N_, translate
from shared.core.settings import Geography
from shared.messaging.models import SmsOutbound, SmsSettings
from shared.messaging.survey_links import SurveyLinks
from shared.messaging.survey_models import VisitSurvey, VisitSurveyRepository
from shared.messaging.texts import Composed, NotSent, SmsService
from shared.setup.models import FhirEndpoint, Organisation
from shared.setup.tables import OrganisationRepository
from shared.storage.routing import Tables
from shared.visits.tables import AppointmentRepository, MeetingLinkRepository

log = logging.getLogger(__name__)

SURVEY_TEXT = N_("{clinic}: how was your video visit? Two quick questions, no names kept: {link}")
OPEN_FOR = timedelta(days=14)
VERSION = "survey"  # one text per appointment: its record's key
Outcome = Literal["saved", "already", "closed", "invalid"]


@dataclass(frozen=True)
class SurveyAnswered:
    outcome: Outcome
    locale: str | None


@dataclass(kw_only=True, eq=False)
class PostVisitSurveys:
    tables: Tables
    sms: SmsService
    links: SurveyLinks
    enqueue: Callable[[Geography, SmsOutbound], None]
    consents: Callable[[str], bool]
    """Whether an organisation gave both SMS consents."""
    clock: Clock

    def call_ended(self, organisation: Organisation, endpoint_id: str, meeting_key: str) -> int:
        """Queue the survey's text to each appointment of the visit whose number is kept; how many."""
        settings = self.sms.settings_for(organisation.tenant_id, endpoint_id, cached=True)
        if settings is None or not settings.survey_after_visit or not settings.sender_number:
            return 0
        appointments = self.tables.data(organisation, AppointmentRepository)
        own = appointments.find(endpoint_id, meeting_key)
        group = appointments.iterate(endpoint_id, query="meeting_key eq @key", parameters={"key": meeting_key})
        keys = {a.appointment_key for a in [*([own] if own else []), *group] if a.phone}
        for key in sorted(keys):
            message = SmsOutbound(
                tenant_id=organisation.tenant_id,
                endpoint_id=endpoint_id,
                appointment_key=key,
                kind="survey",
                version=VERSION,
            )
            self.enqueue(organisation.geography, message)
        return len(keys)

    def compose(
        self,
        organisation: Organisation,
        endpoint: FhirEndpoint,
        message: SmsOutbound,
        settings: SmsSettings | None,
        now: datetime,
    ) -> Composed | NotSent:
        """The dispatcher's question for a survey's text: what to send, or why not."""
        appointment = self.tables.data(organisation, AppointmentRepository).find(endpoint.id, message.appointment_key)
        if appointment is None or appointment.phone is None:
            return NotSent("skipped", "the patient's number is no longer kept")
        if settings is None or not settings.sender_number or not settings.survey_after_visit:
            return NotSent("skipped", "surveys are turned off for this endpoint")
        if not self.consents(organisation.tenant_id):
            return NotSent("skipped", "the SMS consents are not given")
        if self.sms.opted_out(organisation, settings.sender_number, appointment.phone):
            return NotSent("opted_out", "the patient texted STOP")
        locale = appointment.locale or endpoint.patient_locale
        link = self.tables.data(organisation, MeetingLinkRepository).find(endpoint.id, appointment.meeting_key or "")
        link = link or self.tables.data(organisation, MeetingLinkRepository).find(
            endpoint.id, appointment.appointment_key
        )
        survey = VisitSurvey(
            tenant_id=organisation.tenant_id,
            endpoint_id=endpoint.id,
            appointment_key=appointment.appointment_key,
            department_id=link.references.department_id if link is not None else None,
            locale=locale,
            sent_at=now,
            closes_at=now + OPEN_FOR,
        )
        try:
            self.tables.data(organisation, VisitSurveyRepository).create(survey)
        except Conflict:
            pass  # a retried send: the row made the first time counts
        url = self.links.url(organisation.tenant_id, endpoint.id, appointment.appointment_key, locale)
        body = translate(locale, SURVEY_TEXT).replace("{clinic}", settings.clinic_name).replace("{link}", url)
        return Composed(settings.sender_number, appointment.phone, body)

    def locale_of(self, token: str) -> str | None:
        """The language of the survey a token opens (None for a token that is not one)."""
        found = self._survey(token)
        return found[1].locale if found else None

    def _survey(self, token: str) -> tuple[Organisation, VisitSurvey] | None:
        claims = self.links.decode(token)
        if claims is None:
            return None
        organisation = self.tables.control(OrganisationRepository).find(claims.tenant_id, "organisation")
        if organisation is None:
            return None
        survey = self.tables.data(organisation, VisitSurveyRepository).find(claims.endpoint_id, claims.appointment_key)
        return (organisation, survey) if survey is not None else None

    def answer(self, token: str, rating: int, again: bool) -> SurveyAnswered:
        """Keep the answers once; what became of them, and the survey's language for the page that says so."""
        found = self._survey(token)
        if found is None:
            return SurveyAnswered("invalid", None)
        organisation, survey = found
        if survey.answered_at is not None:
            same = survey.rating == rating and survey.again == again
            return SurveyAnswered("saved" if same else "already", survey.locale)  # the same answers again: fine
        if self.clock.now() > survey.closes_at:
            return SurveyAnswered("closed", survey.locale)
        rows = self.tables.data(organisation, VisitSurveyRepository)
        stored = rows.get_versioned(survey.endpoint_id, survey.appointment_key)
        answered = stored.item.model_copy(update={"answered_at": self.clock.now(), "rating": rating, "again": again})
        try:
            rows.replace(answered, stored.etag)
        except (Conflict, NotFound):
            return self.answer(token, rating, again)  # answered meanwhile (two taps): the stored answers decide
        log.info("Survey answered for endpoint %s", survey.endpoint_id)
        return SurveyAnswered("saved", survey.locale)
