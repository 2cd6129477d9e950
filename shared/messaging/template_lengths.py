"""What the wording of an endpoint's texts costs: each template rendered with the longest values it can take (the
clinic name as typed, the longest date and time of a year in the endpoint's zone and the patients' locale, a join
link), and that rendering's encoding and SMS segments, for the template editor to show while the admin types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from shared.auth.principal import Principal, Role
from shared.core.clock import Clock
from shared.core.dates import LocalTime, local_time
from shared.core.locales import DEFAULT_LOCALE, PatientLocale
from shared.messaging.segments import Encoding, segments
from shared.messaging.templates import LocaleTemplates, SmsTemplates, TranslatedLocale, template_for
from shared.messaging.texts import date_locale, render
from shared.setup.endpoints import EndpointService
from shared.setup.models import FhirEndpoint
from shared.setup.organisations import OrganisationService
from shared.visits.join_links import JoinLinks
from shared.visits.models import appointment_key

LEAP_YEAR = 2028  # every day of the year, a 29 February among them


class TemplateDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    clinic_name: str = Field(min_length=1, max_length=60, description="How texts name the sender, as typed.")
    locale: PatientLocale = Field(default=DEFAULT_LOCALE, description="The locale of the wording measured.")
    templates: LocaleTemplates = Field(
        default_factory=LocaleTemplates, description="Templates left out are the locale's defaults."
    )


class TemplateLength(BaseModel):
    encoding: Encoding = Field(description="GSM-7, or UCS-2 when a character is outside GSM-7 (á, í, ó, ú, “”).")
    characters: int = Field(description="GSM-7 septets (extension characters count two) or UCS-2 units.")
    segments: int = Field(description="SMS segments of the longest rendering: what one text costs at most.")
    preview: str = Field(description="The longest rendering, as a patient of the locale would read it.")


class TemplateLengths(BaseModel):
    items: dict[str, TemplateLength] = Field(
        description="By text type: scheduled, rescheduled, cancelled, reminder, reminder2, reminder3, confirmed."
    )


@dataclass(kw_only=True, eq=False)
class TemplateLengthService:
    endpoints: EndpointService
    organisations: OrganisationService
    join_links: JoinLinks
    clock: Clock

    def lengths(self, principal: Principal, endpoint_id: str, draft: TemplateDraft) -> TemplateLengths:
        principal.require(Role.ADMIN)
        endpoint = self.endpoints.get(principal, endpoint_id)
        locale = date_locale(draft.locale, self.organisations.get(principal))
        moments = _longest_moments(endpoint.time_zone, locale)
        link = self._link(endpoint)
        items: dict[str, TemplateLength] = {}
        for kind in LocaleTemplates.model_fields:
            own = {cast(TranslatedLocale, draft.locale): draft.templates}  # the draft, in whichever locale it is
            template = template_for(SmsTemplates(), own, kind, draft.locale)
            renderings = [
                render(template, clinic=draft.clinic_name, when=when, link="" if kind == "cancelled" else link)
                for when in moments
            ]
            preview = max(renderings, key=lambda text: (segments(text).count, segments(text).units))
            longest = segments(preview)
            items[kind] = TemplateLength(
                encoding=longest.encoding, characters=longest.units, segments=longest.count, preview=preview
            )
        return TemplateLengths(items=items)

    def _link(self, endpoint: FhirEndpoint) -> str:
        """A join link as long as the texts' (they all have one length); never sent."""
        now, tenant = self.clock.now(), endpoint.tenant_id
        key = appointment_key(tenant, endpoint.id, "length")
        return self.join_links.issue(
            tenant_id=tenant, endpoint_id=endpoint.id, appointment_key=key, role="patient", start=now, end=now
        )


def _longest_moments(time_zone: str, locale: str) -> list[LocalTime]:
    """A date and a time of each length and encoding a year can give, at 22:59 (two-digit hours on either clock)."""
    zone = ZoneInfo(time_zone)
    found: dict[tuple[str, int], str] = {}
    times: dict[tuple[str, int], str] = {}
    day = datetime(LEAP_YEAR, 1, 1).date()
    while day.year == LEAP_YEAR:
        when = local_time(datetime.combine(day, time(22, 59), zone), time_zone=time_zone, locale=locale)
        for kept, text in ((found, when.date), (times, when.time)):
            measured = segments(text)
            kept.setdefault((measured.encoding, measured.units), text)
        day += timedelta(days=1)
    return [LocalTime(date, clock) for date in found.values() for clock in times.values()]
