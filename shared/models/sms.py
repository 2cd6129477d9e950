"""SMS configuration of an organisation: consents, signing certificates per environment, settings per endpoint."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Environment = Literal["test", "prod"]


class CertificateUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    certificate: str = Field(
        min_length=1,
        max_length=20000,
        description="The EHR's HL7 signing certificate (.cer): PEM text, or the Base64 of the DER file.",
    )


class SigningCertificate(BaseModel):
    """The public certificate that verifies the HL7 messages of one environment (control plane)."""

    tenant_id: str
    environment: Environment
    der: bytes
    thumbprint: str
    subject: str
    not_after: datetime
    uploaded_at: datetime
    uploaded_by: str


class SigningCertificatePublic(BaseModel):
    environment: Environment
    thumbprint: str
    subject: str
    not_after: datetime
    uploaded_at: datetime


class CertificateList(BaseModel):
    items: list[SigningCertificatePublic]


class InboundHl7(BaseModel):
    """The `hl7-inbound` queue message: a verified message, as received, for the processor to parse."""

    tenant_id: str
    endpoint_id: str
    control_id: str
    received_at: datetime
    message: str


SmsType = Literal["scheduled", "rescheduled", "cancelled", "reminder"]
DEFAULT_TEMPLATES: dict[str, str] = {
    "scheduled": "{clinic}: your video visit is booked for {date} at {time}. Join here: {link} Reply STOP to opt out.",
    "rescheduled": "{clinic}: your video visit moved to {date} at {time}. Join here: {link} Reply STOP to opt out.",
    "cancelled": "{clinic}: your video visit on {date} at {time} was cancelled. Reply STOP to opt out.",
    "reminder": "{clinic}: reminder, your video visit is on {date} at {time}. Join here: {link}",
}
PLACEHOLDERS = ("{clinic}", "{date}", "{time}", "{link}")


class SmsTemplates(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scheduled: str = Field(default=DEFAULT_TEMPLATES["scheduled"], min_length=1, max_length=480)
    rescheduled: str = Field(default=DEFAULT_TEMPLATES["rescheduled"], min_length=1, max_length=480)
    cancelled: str = Field(default=DEFAULT_TEMPLATES["cancelled"], min_length=1, max_length=480)
    reminder: str = Field(default=DEFAULT_TEMPLATES["reminder"], min_length=1, max_length=480)


class SmsSettingsUpdate(BaseModel):
    """Per FHIR endpoint: which texts are sent, when the reminder goes, and their wording. Templates may use
    {clinic}, {date}, {time} (the appointment's local time in the endpoint's time zone) and {link}."""

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
    reminder_enabled: bool = True
    reminder_minutes_before: int = Field(default=1440, ge=5, le=10080)
    templates: SmsTemplates = Field(default_factory=SmsTemplates)


class SmsSettings(SmsSettingsUpdate):
    tenant_id: str
    endpoint_id: str
    updated_at: datetime
    updated_by: str

    def sends(self, kind: SmsType) -> bool:
        return {
            "scheduled": self.confirm_scheduled,
            "rescheduled": self.confirm_rescheduled,
            "cancelled": self.confirm_cancelled,
            "reminder": self.reminder_enabled,
        }[kind]


class ReminderReindex(BaseModel):
    """The `reminder-reindex` queue message: an endpoint's reminder timing changed; move its future reminders."""

    tenant_id: str
    endpoint_id: str
    reminders_were_enabled: bool


class SmsSettingsPublic(SmsSettingsUpdate):
    endpoint_id: str
    updated_at: datetime


ConsentName = Literal["sms_terms", "patient_messaging"]
CONSENT_TEXT: dict[str, str] = {
    "sms_terms": (
        "We accept the SMS terms and charges of Azure Communication Services for this organisation, including "
        "its phone numbers' monthly fees, and will not resell those numbers."
    ),
    "patient_messaging": "Patients have agreed to receive appointment text messages from us.",
}


class Consent(BaseModel):
    tenant_id: str
    name: ConsentName
    accepted_by: str
    accepted_at: datetime


class ConsentPublic(BaseModel):
    name: ConsentName
    text: str
    accepted_by: str | None
    accepted_at: datetime | None


class ConsentList(BaseModel):
    items: list[ConsentPublic]
    complete: bool = Field(description="Both consents are given: SMS features can be used.")


class SmsMessageStatus(BaseModel):
    """One text the connector sent or chose not to send. No message text and no phone number (data plane)."""

    endpoint_id: str
    id: str
    appointment_key: str
    type: SmsType
    status: Literal["queued", "sent", "delivered", "failed", "opted_out", "skipped"]
    reason: str | None = None
    provider_message_id: str | None = None
    created_at: datetime
    updated_at: datetime


class OptOut(BaseModel):
    """A number that texted STOP, kept as a keyed hash (never the number itself)."""

    number_hash: str
    sender: str
    opted_out_at: datetime


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
