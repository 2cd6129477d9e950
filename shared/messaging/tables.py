"""The messaging tables: settings, consents, phone numbers and the outbox in the app's account; texts sent and
opt-outs in the organisation's geography."""

from __future__ import annotations

from shared.messaging.consent_models import Consent
from shared.messaging.models import (
    OptOut,
    OutboxMessage,
    PhoneNumber,
    PhoneNumberJob,
    ReplyMarker,
    SendSlot,
    SmsMessageStatus,
    SmsSettings,
)
from shared.storage.repository import TableRepository


class SmsSettingsRepository(TableRepository[SmsSettings], table="smssettings", keys=("{tenant_id}", "{endpoint_id}")):
    """Per endpoint (control plane)."""


class ConsentRepository(TableRepository[Consent], table="consents", keys=("{tenant_id}", "{name}")):
    """The two SMS consents (control plane)."""


class PhoneNumberRepository(TableRepository[PhoneNumber], table="phonenumbers", keys=("{tenant_id}", "{number}")):
    """An organisation's numbers (control plane)."""


class PhoneNumberJobRepository(TableRepository[PhoneNumberJob], table="phonenumberjobs", keys=("{tenant_id}", "{id}")):
    """Jobs acquiring or releasing numbers (control plane)."""


class OutboxRepository(TableRepository[OutboxMessage], table="smsoutbox", keys=("{tenant_id}", "{id}")):
    """Texts kept, not sent, by the outbox provider (local runs; data plane, links without their tokens)."""


class SmsMessageRepository(TableRepository[SmsMessageStatus], table="smsmessages", keys=("{endpoint_id}", "{id}")):
    """What was sent, type and status, never the text (data plane)."""


class OptOutRepository(TableRepository[OptOut], table="optouts", keys=("{sender}", "{number_hash}")):
    """Numbers that texted STOP to a sender, as HMACs (data plane)."""


class SendSlotRepository(TableRepository[SendSlot], table="smssendslots", keys=("{sender}", "slot")):
    """Each sender number's shared rate limiter, respected by every instance (control plane; no personal data)."""


class ReplyMarkerRepository(TableRepository[ReplyMarker], table="replymarkers", keys=("{sender}", "{number_hash}")):
    """When each number last got an answer to a reply (data plane): one row per number, as HMACs."""
