"""Consents and per-endpoint SMS settings (portal). A change of reminder timing moves the reminders already indexed, in
the background."""

from __future__ import annotations

from dataclasses import dataclass

from shared.auth.principal import Principal, Role
from shared.core.clock import Clock
from shared.core.errors import Conflict, Unprocessable
from shared.messaging.consent_models import CONSENT_TEXT, Consent, ConsentList, ConsentName, ConsentPublic
from shared.messaging.models import ReminderReindex, SmsSettings, SmsSettingsUpdate
from shared.messaging.tables import (
    ConsentRepository,
    PhoneNumberRepository,
    SmsSettingsRepository,
)
from shared.setup.audit import AuditLog
from shared.setup.endpoints import EndpointService
from shared.storage.queue_names import REMINDER_REINDEX
from shared.storage.queues import QueueSender
from shared.storage.routing import Tables


@dataclass(kw_only=True, eq=False)
class SmsSetup:
    """Consents and per-endpoint SMS settings (portal)."""

    tables: Tables
    endpoints: EndpointService
    audit: AuditLog
    queues: QueueSender
    clock: Clock

    def __post_init__(self) -> None:
        self._consents = self.tables.control(ConsentRepository)
        self._settings = self.tables.control(SmsSettingsRepository)
        self._numbers = self.tables.control(PhoneNumberRepository)
        self._consented: set[str] = set()  # tenants with both consents (they cannot be withdrawn)

    def consents(self, principal: Principal) -> ConsentList:
        principal.require(Role.ADMIN, Role.APPROVER)
        given = {c.name: c for c in self._consents.iterate(principal.tenant_id)}
        items = [
            ConsentPublic(
                name=name,
                text=text,
                accepted_by=given[name].accepted_by if name in given else None,
                accepted_at=given[name].accepted_at if name in given else None,
            )
            for name, text in CONSENT_TEXT.items()
        ]
        return ConsentList(items=items, complete=len(given) == len(CONSENT_TEXT))

    def give_consent(self, principal: Principal, name: ConsentName) -> ConsentList:
        principal.require(Role.ADMIN)
        consent = Consent(
            tenant_id=principal.tenant_id, name=name, accepted_by=principal.user_id, accepted_at=self.clock.now()
        )
        try:
            self._consents.create(consent)
        except Conflict:
            return self.consents(principal)  # already given: the first acceptance stands
        self.audit.by(
            principal,
            action="consent",
            entity="sms_consent",
            entity_id=name,
            fields={"accepted_at"},
        )
        return self.consents(principal)

    def has_consents(self, tenant_id: str) -> bool:
        if tenant_id not in self._consented:
            if len(list(self._consents.iterate(tenant_id))) == len(CONSENT_TEXT):
                self._consented.add(tenant_id)
        return tenant_id in self._consented

    def settings(self, principal: Principal, endpoint_id: str) -> SmsSettings | None:
        endpoint = self.endpoints.get(principal, endpoint_id)
        return self._settings.find(principal.tenant_id, endpoint.id)

    def update_settings(self, principal: Principal, endpoint_id: str, update: SmsSettingsUpdate) -> SmsSettings:
        principal.require(Role.ADMIN)
        endpoint = self.endpoints.get(principal, endpoint_id)
        if not self.has_consents(principal.tenant_id):
            raise Conflict("Give both SMS consents before setting up texts.")
        if update.sender_number:
            held = self._numbers.find(principal.tenant_id, update.sender_number)
            if held is None or held.status != "active":
                raise Unprocessable(
                    "The sender number is not one of your organisation's active phone numbers.",
                    {"sender_number": "acquire it under Phone numbers first"},
                )
        minutes = [
            m
            for m in (update.reminder_minutes_before, update.reminder2_minutes_before, update.reminder3_minutes_before)
            if m is not None
        ]
        if len(set(minutes)) != len(minutes):
            raise Unprocessable(
                "Two reminders are set for the same time; give each its own minutes before the visit.",
                {"reminder2_minutes_before": "differs from the other reminders"},
            )
        previous = self._settings.find(principal.tenant_id, endpoint.id)
        settings = SmsSettings(
            tenant_id=principal.tenant_id,
            endpoint_id=endpoint.id,
            updated_at=self.clock.now(),
            updated_by=principal.user_id,
            **update.model_dump(),
        )
        self._settings.upsert(settings)
        self.audit.by(
            principal,
            action="update",
            entity="sms_settings",
            entity_id=endpoint.id,
            subject=endpoint.base_url,
            environment=endpoint.environment,
            fields=set(update.model_fields_set) | {"templates"},
        )
        if previous is not None and previous.reminder_minutes() != settings.reminder_minutes():
            # Reminders already indexed for the old timing move (or go) in the background.
            self.queues.send(
                REMINDER_REINDEX,
                ReminderReindex(
                    tenant_id=principal.tenant_id,
                    endpoint_id=endpoint.id,
                    reminders_were_enabled=previous.reminder_enabled,
                    kinds_before=list(previous.reminder_minutes()),
                ),
            )
        return settings
