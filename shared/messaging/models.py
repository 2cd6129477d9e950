"""Texts to patients: consents, per-endpoint SMS settings and templates, what was sent (never the text), opt-outs, the
local outbox, and the organisation's phone numbers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.messaging.templates import LocaleTemplates, SmsTemplates, TranslatedLocale
from shared.visits.models import REMINDER_KINDS, ReminderKind, SmsType


class SmsSettingsUpdate(BaseModel):
    """Per FHIR endpoint: which texts are sent, when the reminder goes, and their wording. Templates may use
    {clinic}, {date}, {time} (in the endpoint's time zone and its short name, as the patient's locale writes
    them), {link} and {dial_in} ("No data or camera? Call … and enter …#." once the visit's meeting offers a phone
    number; empty otherwise; a text with a link and without {dial_in} gets it at its end); each patient gets the
    texts of their locale (PID-15, else the endpoint's default)."""

    model_config = ConfigDict(extra="forbid")

    clinic_name: str = Field(min_length=1, max_length=60, description="How texts name the sender, e.g. the clinic.")
    sender_number: str | None = Field(
        default=None,
        pattern=r"^\+[1-9][0-9]{6,14}$",
        description="One of the organisation's phone numbers (E.164) to send this endpoint's texts from; none: "
        "no texts are sent. The same as linking the number to the endpoint.",
    )
    confirm_scheduled: bool = True
    confirm_rescheduled: bool = True
    confirm_cancelled: bool = True
    confirm_by_reply: bool = Field(
        default=True, description="A reply C or YES (SÍ in Spanish) confirms the next visit and is answered."
    )
    clinic_phone: str | None = Field(
        default=None,
        pattern=r"^\+[1-9][0-9]{6,14}$",
        description="The clinic's phone number (E.164) that answers to HELP and to other replies give; none: no "
        "such answers.",
    )
    reminder_enabled: bool = True
    reminder_minutes_before: int = Field(default=1440, ge=5, le=10080, description="The first reminder.")
    reminder2_minutes_before: int | None = Field(
        default=None, ge=5, le=10080, description="A second reminder (template reminder2); none: not sent."
    )
    reminder3_minutes_before: int | None = Field(
        default=None, ge=5, le=10080, description="A third reminder (template reminder3); none: not sent."
    )
    survey_after_visit: bool = Field(
        default=False, description="After the call ends, one text with a two-question survey (no free text)."
    )
    device_check_first: bool = Field(
        default=False,
        description="The reminder's link opens the device test page first (camera, microphone, speaker), then the "
        "visit with one tap; its token stays in the link's fragment.",
    )
    templates: SmsTemplates = Field(default_factory=SmsTemplates, description="The texts in English.")
    locale_templates: dict[TranslatedLocale, LocaleTemplates] = Field(
        default_factory=dict,
        description="The texts in other locales (es_US), by locale; a template left out is the shipped translation.",
    )


class SmsSettings(SmsSettingsUpdate):
    tenant_id: str
    endpoint_id: str
    updated_at: datetime
    updated_by: str

    def reminder_minutes(self) -> dict[ReminderKind, int]:
        """The reminders sent, by kind: minutes before the visit (rows stored before there were three have one)."""
        if not self.reminder_enabled:
            return {}
        chosen = (self.reminder_minutes_before, self.reminder2_minutes_before, self.reminder3_minutes_before)
        return {kind: minutes for kind, minutes in zip(REMINDER_KINDS, chosen, strict=True) if minutes is not None}

    def sends(self, kind: SmsType) -> bool:
        if kind in REMINDER_KINDS:
            return kind in self.reminder_minutes()
        return {
            "scheduled": self.confirm_scheduled,
            "rescheduled": self.confirm_rescheduled,
            "cancelled": self.confirm_cancelled,
            "confirmed": self.confirm_by_reply,
        }[kind]


class ReminderReindex(BaseModel):
    """The `reminder-reindex` queue message: an endpoint's reminder timing changed; move its future reminders."""

    tenant_id: str
    endpoint_id: str
    reminders_were_enabled: bool
    kinds_before: list[ReminderKind] | None = Field(default=None, description="The reminders sent before the change.")


class SmsSettingsPublic(SmsSettingsUpdate):
    endpoint_id: str
    updated_at: datetime


SmsStatus = Literal["queued", "sending", "sent", "delivered", "failed", "opted_out", "skipped"]
FINAL_STATUSES: tuple[SmsStatus, ...] = ("sent", "delivered", "failed", "opted_out", "skipped")


class SmsMessageStatus(BaseModel):
    """One text the connector sent or chose not to send. No message text and no phone number (data plane).

    `queued -> sending -> sent | failed` (or `skipped`, `opted_out`); `sending` is claimed with the row's ETag, so
    one worker sends it, and a claim older than the sending lease is taken over with the same repeatability ID."""

    endpoint_id: str
    id: str
    appointment_key: str
    type: SmsType
    status: SmsStatus
    reason: str | None = None
    provider_message_id: str | None = None
    created_at: datetime
    updated_at: datetime
    version: str | None = Field(default=None, description="What the text is for: appointment version or due time.")
    attempts: int = Field(default=0, description="Sends that failed for a passing reason (5xx, timeout).")
    sending_since: datetime | None = None
    repeatability_id: str | None = Field(default=None, description="The provider's idempotency key for this send.")
    first_sent_at: datetime | None = None
    segments: int | None = Field(default=None, description="SMS segments the text took when sent (carriers bill them).")


class SmsOutbound(BaseModel):
    """The `sms-outbound` queue message (one per text, in the organisation's geography): keys only, no number, no
    name, no text. `version` is the appointment's version for a confirmation, the due time for a reminder."""

    tenant_id: str
    endpoint_id: str
    appointment_key: str
    kind: SmsType
    version: str
    resend: bool = False
    slot_at: datetime | None = Field(default=None, description="A send slot this copy holds on the sender number.")


class SendSlot(BaseModel):
    """A sender number's shared rate limiter (GCRA): the time the next text may go, claimed with the ETag."""

    sender: str
    next_at: datetime


class OptOut(BaseModel):
    """A number that texted STOP, kept as a keyed hash (never the number itself)."""

    number_hash: str
    sender: str
    opted_out_at: datetime


class ReplyMarker(BaseModel):
    """The day a number last got the clinic's phone number in answer to a reply it sent (a keyed hash, as opt-outs
    are): at most one such answer a day."""

    number_hash: str
    sender: str
    day: str  # YYYY-MM-DD (UTC)


class OutboxMessage(BaseModel):
    """A text the outbox provider kept instead of sending (local runs only; the number is masked)."""

    tenant_id: str
    id: str
    to_masked: str
    sender: str
    body: str
    created_at: datetime


class OutboxMessagePublic(BaseModel):
    id: str
    to_masked: str
    sender: str
    body: str
    created_at: datetime


class OutboxList(BaseModel):
    items: list[OutboxMessagePublic]


E164 = r"^\+[1-9][0-9]{6,14}$"


NumberType = Literal["toll_free", "geographic"]


JobKind = Literal["purchase", "release"]


JobStatus = Literal["queued", "searching", "purchasing", "releasing", "succeeded", "failed"]


FINISHED: frozenset[str] = frozenset({"succeeded", "failed"})


class PhoneNumberOrder(BaseModel):
    """What number to acquire. Toll-free numbers suit appointment texts (carriers enforce STOP on them)."""

    model_config = ConfigDict(extra="forbid")

    country_code: str = Field(
        default="US",
        pattern=r"^[A-Z]{2}$",
        description="ISO 3166 country code: the organisation's SMS country, which is also the default.",
    )
    number_type: NumberType = "toll_free"
    area_code: str | None = Field(
        default=None, pattern=r"^[0-9]{3}$", description="Only numbers with this area code (optional)."
    )


class PhoneNumber(BaseModel):
    """A number the organisation holds. Which endpoints it sends for is in their SMS settings."""

    tenant_id: str
    number: str
    country_code: str
    number_type: NumberType
    status: Literal["active", "releasing"] = "active"
    monthly_cost: str | None = None
    acquired_at: datetime
    acquired_by: str


class PhoneNumberPublic(BaseModel):
    number: str
    country_code: str
    number_type: NumberType
    status: Literal["active", "releasing"]
    monthly_cost: str | None
    acquired_at: datetime
    linked_endpoint_ids: list[str] = Field(description="The FHIR endpoints whose texts come from this number.")


class PhoneNumberJob(BaseModel):
    """Acquiring (search, then purchase) or releasing a number: minutes of work driven by a queue, resumable
    after a restart from the provider's operation token."""

    tenant_id: str
    id: str
    kind: JobKind
    status: JobStatus = "queued"
    order: PhoneNumberOrder | None = None
    number: str | None = None
    search_id: str | None = None
    monthly_cost: str | None = None
    operation: str | None = Field(default=None, description="The provider's token of the running operation.")
    error: str | None = None
    polls: int = 0
    created_by: str
    created_at: datetime
    updated_at: datetime


class PhoneNumberJobPublic(BaseModel):
    id: str
    kind: JobKind
    status: JobStatus
    done: bool
    number: str | None
    order: PhoneNumberOrder | None
    error: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, job: PhoneNumberJob) -> PhoneNumberJobPublic:
        return cls(done=job.status in FINISHED, **job.model_dump(include=set(cls.model_fields) - {"done"}))


class PhoneNumberList(BaseModel):
    items: list[PhoneNumberPublic]
    jobs: list[PhoneNumberJobPublic] = Field(description="Jobs still running, and those of the last day.")


class PhoneNumberJobMessage(BaseModel):
    """The `phone-number-jobs` queue message: advance this job by one step."""

    tenant_id: str
    job_id: str


class PhoneNumberLinks(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint_ids: list[str] = Field(
        max_length=100,
        description="Every endpoint that should send from this number (others linked to it are unlinked).",
    )
