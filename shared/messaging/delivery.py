"""Event Grid deliveries from Azure Communication Services: the subscription's validation handshake, delivery
reports (the message's status), and inbound texts: STOP and START, then any other reply (replies.py). Numbers and
texts are never logged."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from shared.core.clock import Clock
from shared.core.errors import InvalidInput
from shared.messaging.models import OptOut
from shared.messaging.phone_numbers import PhoneNumberService
from shared.messaging.replies import Replies
from shared.messaging.tables import OptOutRepository, SmsMessageRepository
from shared.messaging.texts import SmsService
from shared.setup.tables import OrganisationRepository
from shared.storage.routing import Tables

log = logging.getLogger(__name__)


VALIDATION = "Microsoft.EventGrid.SubscriptionValidationEvent"


DELIVERY = "Microsoft.Communication.SMSDeliveryReportReceived"


RECEIVED = "Microsoft.Communication.SMSReceived"


STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT"})


START_WORDS = frozenset({"START", "UNSTOP", "YES"})


REPLY_TOO = frozenset({"YES"})  # a START word that is also a reply (replies.py)


@dataclass(kw_only=True, eq=False)
class SmsEvents:
    tables: Tables
    sms: SmsService
    numbers: PhoneNumberService
    clock: Clock
    replies: Replies | None = None

    def handle(self, events: Any) -> dict[str, str] | None:
        """The validation answer for a handshake, else None once every event is applied."""
        if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
            raise InvalidInput("Expected an array of Event Grid events.")
        if not all(isinstance(e.get("data"), dict | None) for e in events):
            raise InvalidInput("Each Event Grid event's data must be an object.")
        for event in events:
            kind = event.get("eventType")
            data = event.get("data") or {}
            if kind == VALIDATION:
                code = data.get("validationCode")
                if not isinstance(code, str) or not code:
                    raise InvalidInput("The validation event has no validationCode.")
                return {"validationResponse": code}
            if kind == DELIVERY:
                self._delivery(data)
            elif kind == RECEIVED:
                self._received(data, str(event.get("id") or ""))
        return None

    def _delivery(self, data: dict[str, Any]) -> None:
        tenant_id, _, rest = str(data.get("tag") or "").partition("|")
        endpoint_id, _, message_id = rest.partition("|")
        organisation = (
            self.tables.control(OrganisationRepository).find(tenant_id, "organisation") if tenant_id else None
        )
        if organisation is None or not endpoint_id or not message_id:
            log.warning("Delivery report with an unknown tag ignored")
            return
        messages = self.tables.data(organisation, SmsMessageRepository)
        record = messages.find(endpoint_id, message_id)
        if record is None:
            log.warning("Delivery report for an unknown message ignored")
            return
        delivered = str(data.get("deliveryStatus", "")).lower() == "delivered"
        details = str(data.get("deliveryStatusDetails") or "")[:200]
        messages.upsert(
            record.model_copy(
                update={
                    "status": "delivered" if delivered else "failed",
                    "reason": None if delivered else details or "not delivered",
                    "updated_at": self.clock.now(),
                }
            )
        )

    def _received(self, data: dict[str, Any], event_id: str) -> None:
        text = str(data.get("message") or "")
        word = text.strip().upper()
        patient, ours = str(data.get("from") or ""), str(data.get("to") or "")
        if not patient or not ours:
            return
        if word not in STOP_WORDS | START_WORDS:
            if self.replies is not None:
                self.replies.answer(text, patient, ours, event_id)
            return
        number_hash = self.sms.number_hash(patient)
        for tenant_id in self.numbers.tenants_of(ours):
            organisation = self.tables.control(OrganisationRepository).find(tenant_id, "organisation")
            if organisation is None:
                continue
            opt_outs = self.tables.data(organisation, OptOutRepository)
            if word in STOP_WORDS:
                opt_outs.upsert(OptOut(number_hash=number_hash, sender=ours, opted_out_at=self.clock.now()))
            else:
                opt_outs.delete(ours, number_hash)
            log.info(
                "Inbound %s applied for a number of tenant %s", "STOP" if word in STOP_WORDS else "START", tenant_id
            )
        if word in REPLY_TOO and self.replies is not None:  # YES opts in again and confirms the next visit
            self.replies.answer(text, patient, ours, event_id)
