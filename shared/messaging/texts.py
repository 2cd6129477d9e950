"""Texts to patients: settings and consents (portal), and sending one confirmation or reminder.

Before every send: both consents, a linked sender number, the type enabled, a usable phone number, and no STOP
from that number. Every decision is recorded (type and status, never the text or the number). The message ID is
derived from the appointment's version and the type, and a message already recorded as sent is not sent again,
so a retried confirmation does not text the patient twice (short of a crash between the send and its record).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from shared.core.clock import Clock
from shared.messaging.models import (
    SmsMessageStatus,
    SmsSettings,
)
from shared.messaging.providers import OutgoingSms, SmsFailed, SmsSender
from shared.messaging.sms_setup import SmsSetup
from shared.messaging.tables import (
    OptOutRepository,
    SmsMessageRepository,
    SmsSettingsRepository,
)
from shared.secrets import SecretStore
from shared.setup.models import FhirEndpoint, Organisation
from shared.storage.routing import Tables
from shared.visits.join_links import JoinLinks
from shared.visits.models import Appointment, SmsType

log = logging.getLogger(__name__)


# The opt-out list stores numbers as HMACs under this key. It has its own secret, never rotated: a new key would
# silently forget every STOP (the join-link key, by contrast, is meant to be rotated).
OPT_OUT_KEY_SECRET = "opt-out-key"


def _message_id(appointment: Appointment, kind: SmsType) -> str:
    return hashlib.sha256(f"{appointment.appointment_key}|{appointment.version}|{kind}".encode()).hexdigest()[:32]


@dataclass(kw_only=True, eq=False)
class SmsService:
    tables: Tables
    setup: SmsSetup
    sender: SmsSender
    join_links: JoinLinks
    secrets: SecretStore
    clock: Clock

    def number_hash(self, number: str) -> str:
        key = self.secrets.get(OPT_OUT_KEY_SECRET).encode()
        return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()

    def settings_for(self, tenant_id: str, endpoint_id: str) -> SmsSettings | None:
        return self.tables.control(SmsSettingsRepository).find(tenant_id, endpoint_id)

    def send(
        self,
        *,
        organisation: Organisation,
        endpoint: FhirEndpoint,
        appointment: Appointment,
        kind: SmsType,
        settings: SmsSettings | None = None,
    ) -> SmsMessageStatus:
        settings = settings or self.settings_for(organisation.tenant_id, endpoint.id)
        now = self.clock.now()
        record = SmsMessageStatus(
            endpoint_id=endpoint.id,
            id=_message_id(appointment, kind),
            appointment_key=appointment.appointment_key,
            type=kind,
            status="skipped",
            created_at=now,
            updated_at=now,
        )
        messages = self.tables.data(organisation, SmsMessageRepository)
        earlier = messages.find(endpoint.id, record.id)
        if earlier is not None and earlier.status in ("sent", "delivered"):
            return earlier
        reason = self._skip_reason(organisation, settings, appointment, kind)
        if reason is None:
            assert settings is not None and settings.sender_number and appointment.phone
            if self.tables.data(organisation, OptOutRepository).find(
                settings.sender_number, self.number_hash(appointment.phone)
            ):
                record.status, reason = "opted_out", "the patient texted STOP"
            else:
                body = self._render(settings, endpoint, appointment, kind, organisation)
                try:
                    record.provider_message_id = self.sender.send(
                        OutgoingSms(
                            record.id,
                            appointment.phone,
                            settings.sender_number,
                            body,
                            tag=f"{organisation.tenant_id}|{endpoint.id}|{record.id}",
                        )
                    )
                    record.status = "sent"
                except SmsFailed as failure:
                    record.status, reason = "failed", failure.detail
        record.reason = reason
        messages.upsert(record)
        log.info("SMS %s for endpoint %s: %s", kind, endpoint.id, record.status)
        return record

    def decided(self, organisation: Organisation, appointment: Appointment, kind: SmsType) -> bool:
        """Whether this text was already sent, or decided against, for the appointment's current version."""
        messages = self.tables.data(organisation, SmsMessageRepository)
        return messages.find(appointment.endpoint_id, _message_id(appointment, kind)) is not None

    def _skip_reason(
        self, organisation: Organisation, settings: SmsSettings | None, appointment: Appointment, kind: SmsType
    ) -> str | None:
        if settings is None or not settings.sender_number:
            return "no sender number is linked to this endpoint"
        if not settings.sends(kind):
            return f"{kind} texts are turned off"
        if not self.setup.has_consents(organisation.tenant_id):
            return "the SMS consents are not given"
        if not appointment.phone:
            return f"phone number {appointment.phone_problem or 'missing'}"
        return None

    def _render(
        self,
        settings: SmsSettings,
        endpoint: FhirEndpoint,
        appointment: Appointment,
        kind: SmsType,
        organisation: Organisation,
    ) -> str:
        local: datetime = appointment.start.astimezone(ZoneInfo(endpoint.time_zone))
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
        template: str = getattr(settings.templates, kind)
        return (
            template.replace("{clinic}", settings.clinic_name)
            .replace("{date}", local.strftime("%a %d %b"))
            .replace("{time}", local.strftime("%H:%M"))
            .replace("{link}", link)
        )
