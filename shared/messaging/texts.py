"""Texts to patients: what one confirmation or reminder says, and whether it may go at all.

Before every send: both consents, a linked sender number, the type enabled, a usable phone number, and no STOP
from that number. The message ID is derived from the appointment key, what the text is for (the appointment's
version for a confirmation, the due time for a reminder) and the type, so every copy of one text has one record
and one provider repeatability ID. Sending, retries and rate limits are the dispatcher's (dispatch.py).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.core.clock import Clock
from shared.core.dates import LocalTime, local_time, text_locale
from shared.core.i18n import N_, translate
from shared.core.ttl import TtlCache
from shared.messaging.models import SmsMessageStatus, SmsSettings
from shared.messaging.sms_setup import SmsSetup
from shared.messaging.tables import OptOutRepository, SmsMessageRepository, SmsSettingsRepository
from shared.messaging.templates import template_for
from shared.secrets import SecretStore
from shared.setup.models import FhirEndpoint, Organisation
from shared.storage.routing import Tables
from shared.visits.join_links import JoinLinks
from shared.visits.models import REMINDER_KINDS, Appointment, MeetingDialIn, SmsType
from shared.visits.tables import MeetingLinkRepository

# The opt-out list stores numbers as HMACs under this key. It has its own secret, never rotated: a new key would
# silently forget every STOP (the join-link key, by contrast, is meant to be rotated).
OPT_OUT_KEY_SECRET = "opt-out-key"
SETTINGS_TTL = timedelta(seconds=30)
DIAL_IN = N_("No data or camera? Call {number} and enter {id}#.")
LINK_AGAIN = N_("{clinic}: here is the link to your video visit on {date} at {time} again: {link}")


NO_NUMBER = {
    "missing": "no phone number",
    "invalid": "the phone number is not usable",
    "unsupported country": "the phone number is of another country than the organisation's SMS country",
}
"""Why a text was not sent, by the appointment's phone problem (the SMS report counts them)."""


def message_id(appointment_key: str, version: str, kind: SmsType) -> str:
    return hashlib.sha256(f"{appointment_key}|{version}|{kind}".encode()).hexdigest()[:32]


def reminder_version(due_at: datetime) -> str:
    return f"due:{due_at.isoformat()}"


@dataclass(frozen=True)
class Composed:
    sender: str
    to: str
    body: str


@dataclass(frozen=True)
class NotSent:
    status: str  # skipped | opted_out
    reason: str


@dataclass(kw_only=True, eq=False)
class SmsService:
    tables: Tables
    setup: SmsSetup
    join_links: JoinLinks
    secrets: SecretStore
    clock: Clock

    def __post_init__(self) -> None:
        self._settings: TtlCache[tuple[str, str], SmsSettings | None] = TtlCache(self.clock, SETTINGS_TTL)
        self._consents: TtlCache[str, bool] = TtlCache(self.clock, SETTINGS_TTL)

    def number_hash(self, number: str) -> str:
        key = self.secrets.get(OPT_OUT_KEY_SECRET).encode()
        return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()

    def opted_out(self, organisation: Organisation, sender: str, phone: str) -> bool:
        """Whether `phone` texted STOP to the organisation's number `sender` (and not START since)."""
        opt_outs = self.tables.data(organisation, OptOutRepository)
        return opt_outs.find(sender, self.number_hash(phone)) is not None

    def settings_for(self, tenant_id: str, endpoint_id: str, *, cached: bool = False) -> SmsSettings | None:
        def load() -> SmsSettings | None:
            return self.tables.control(SmsSettingsRepository).find(tenant_id, endpoint_id)

        return self._settings.get((tenant_id, endpoint_id), load) if cached else load()

    def decided(
        self, organisation: Organisation, appointment_key: str, endpoint_id: str, version: str, kind: SmsType
    ) -> bool:
        """Whether this reminder was already sent or decided against."""
        messages = self.tables.data(organisation, SmsMessageRepository)
        return messages.find(endpoint_id, message_id(appointment_key, version, kind)) is not None

    def compose(
        self,
        *,
        organisation: Organisation,
        endpoint: FhirEndpoint,
        appointment: Appointment,
        kind: SmsType,
        settings: SmsSettings | None,
    ) -> Composed | NotSent:
        reason = self._skip_reason(organisation, settings, appointment, kind)
        if reason is not None:
            return NotSent("skipped", reason)
        assert settings is not None and settings.sender_number and appointment.phone
        if self.opted_out(organisation, settings.sender_number, appointment.phone):
            return NotSent("opted_out", "the patient texted STOP")
        locale = appointment.locale or endpoint.patient_locale  # rows from before PID-15 was read have none
        body = self._render(settings, endpoint, appointment, kind, organisation, locale)
        return Composed(settings.sender_number, appointment.phone, body)

    def new_record(self, endpoint_id: str, appointment_key: str, version: str, kind: SmsType) -> SmsMessageStatus:
        now = self.clock.now()
        return SmsMessageStatus(
            endpoint_id=endpoint_id,
            id=message_id(appointment_key, version, kind),
            appointment_key=appointment_key,
            type=kind,
            status="queued",
            version=version,
            created_at=now,
            updated_at=now,
        )

    def _skip_reason(
        self, organisation: Organisation, settings: SmsSettings | None, appointment: Appointment, kind: SmsType
    ) -> str | None:
        if settings is None or not settings.sender_number:
            return "no sender number is linked to this endpoint"
        if not settings.sends(kind):
            return f"{kind} texts are turned off"
        tenant = organisation.tenant_id
        if not self._consents.get(tenant, lambda: self.setup.has_consents(tenant)):
            return "the SMS consents are not given"
        if not appointment.phone:
            return NO_NUMBER.get(appointment.phone_problem or "missing", "no usable phone number")
        return None

    def _render(
        self,
        settings: SmsSettings,
        endpoint: FhirEndpoint,
        appointment: Appointment,
        kind: SmsType,
        organisation: Organisation,
        locale: str,
        template: str | None = None,
    ) -> str:
        when = local_time(appointment.start, time_zone=endpoint.time_zone, locale=date_locale(locale, organisation))
        link = ""
        if kind != "cancelled":
            link = self.join_links.issue(
                tenant_id=organisation.tenant_id,
                endpoint_id=endpoint.id,
                appointment_key=appointment.appointment_key,
                role="patient",
                start=appointment.start,
                end=appointment.end,
            )
        if kind in REMINDER_KINDS and settings.device_check_first and template is None:  # each of the reminders
            link = self.join_links.device_test_first(link)
        template = template or template_for(settings.templates, settings.locale_templates, kind, locale)
        dial_in = self.dial_in(organisation, appointment, locale) if link else ""
        return render(template, clinic=settings.clinic_name, when=when, link=link, dial_in=dial_in)

    def dial_in(self, organisation: Organisation, appointment: Appointment, locale: str) -> str:
        """ "Or call … and enter …#." in `locale`, once the visit's meeting exists and offers it; else empty."""
        meetings = self.tables.data(organisation, MeetingLinkRepository)
        meeting = meetings.find(appointment.endpoint_id, appointment.meeting_key or appointment.appointment_key)
        if meeting is None or meeting.dial_in is None:
            return ""
        return dial_in_words(meeting.dial_in, locale)

    def link_text(
        self,
        settings: SmsSettings,
        endpoint: FhirEndpoint,
        appointment: Appointment,
        organisation: Organisation,
        locale: str,
    ) -> str:
        """The patient's join link sent again, when they asked for it (lost_links.py)."""
        resend = translate(locale, LINK_AGAIN)
        return self._render(settings, endpoint, appointment, "reminder", organisation, locale, template=resend)


def date_locale(locale: str, organisation: Organisation) -> str:
    """How dates are written for a reader of `locale`: English as written in the organisation's SMS country
    (en_GB writes 24-hour times), any other language as its own locale."""
    return text_locale(organisation.sms_country) if locale.startswith("en") else locale


def dial_in_words(dial_in: MeetingDialIn, locale: str) -> str:
    return translate(locale, DIAL_IN).replace("{number}", dial_in.number).replace("{id}", dial_in.conference_id)


def render(template: str, *, clinic: str, when: LocalTime, link: str, dial_in: str = "") -> str:
    """The text; `dial_in` goes where the template says {dial_in}, else after a text with a link."""
    text = template.replace("{clinic}", clinic).replace("{date}", when.date).replace("{time}", when.time)
    if "{dial_in}" not in text and dial_in and "{link}" in text:
        text += " {dial_in}"
    text = text.replace(" {dial_in}", f" {dial_in}" if dial_in else "").replace("{dial_in}", dial_in)
    return text.replace("{link}", link)
