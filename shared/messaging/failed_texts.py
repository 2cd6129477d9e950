"""Texts that could not be sent (portal): listed with their reason, and sent again on an admin's request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel

from shared.auth.principal import Principal, Role
from shared.core.clock import Clock
from shared.core.errors import Conflict, InvalidInput, NotFound
from shared.messaging.dispatch import TextDispatch
from shared.messaging.models import SmsMessageStatus, SmsOutbound
from shared.messaging.tables import SmsMessageRepository
from shared.setup.audit import AuditLog
from shared.setup.models import Organisation
from shared.setup.organisations import OrganisationService
from shared.setup.tables import FhirEndpointRepository
from shared.storage.routing import Tables
from shared.visits.models import SmsType

LISTED_FOR = timedelta(days=30)


class FailedText(BaseModel):
    """A text that could not be sent, for the portal's SMS page (no number, no text)."""

    endpoint_id: str
    id: str
    type: SmsType
    reason: str | None
    attempts: int
    updated_at: datetime


class FailedTextList(BaseModel):
    items: list[FailedText]


@dataclass(kw_only=True, eq=False)
class FailedTexts:
    tables: Tables
    organisations: OrganisationService
    dispatch: TextDispatch
    audit: AuditLog
    clock: Clock

    def _organisation(self, principal: Principal) -> Organisation:
        principal.require(Role.ADMIN)
        return self.organisations.get(principal)

    def list_failed(self, principal: Principal) -> list[FailedText]:
        organisation = self._organisation(principal)
        records = self.tables.data(organisation, SmsMessageRepository)
        since = self.clock.now() - LISTED_FOR
        failed: list[SmsMessageStatus] = []
        for endpoint in self.tables.control(FhirEndpointRepository).iterate(principal.tenant_id):
            failed.extend(
                records.iterate(
                    endpoint.id,
                    query="status eq @failed and updated_at ge @since",
                    parameters={"failed": "failed", "since": since},
                )
            )
        failed.sort(key=lambda r: r.updated_at, reverse=True)
        return [
            FailedText(
                endpoint_id=r.endpoint_id,
                id=r.id,
                type=r.type,
                reason=r.reason,
                attempts=r.attempts,
                updated_at=r.updated_at,
            )
            for r in failed
        ]

    def resend(self, principal: Principal, endpoint_id: str, text_id: str) -> FailedText:
        """Queue a failed text again, with its tries reset and a new repeatability ID (the old one failed)."""
        organisation = self._organisation(principal)
        if self.tables.control(FhirEndpointRepository).find(principal.tenant_id, endpoint_id) is None:
            raise NotFound(f"Endpoint {endpoint_id} does not exist.")
        records = self.tables.data(organisation, SmsMessageRepository)
        try:
            stored = records.get_versioned(endpoint_id, text_id)
        except NotFound:
            raise NotFound(f"Text {text_id} does not exist.") from None
        record = stored.item
        if record.status != "failed" or record.version is None:
            raise InvalidInput(f"Only a failed text can be sent again; this one is {record.status}.")
        queued = record.model_copy(
            update={
                "status": "queued",
                "attempts": 0,
                "reason": None,
                "repeatability_id": None,
                "first_sent_at": None,
                "updated_at": self.clock.now(),
            }
        )
        try:
            records.replace(queued, stored.etag)
        except Conflict:
            raise Conflict("The text changed meanwhile; reload the list.") from None
        self.dispatch.enqueue(
            organisation.geography,
            SmsOutbound(
                tenant_id=principal.tenant_id,
                endpoint_id=endpoint_id,
                appointment_key=record.appointment_key,
                kind=record.type,
                version=record.version,
                resend=True,
            ),
        )
        self.audit.by(principal, action="resend", entity="sms_message", entity_id=text_id, fields={"status"})
        return FailedText(
            endpoint_id=endpoint_id,
            id=text_id,
            type=record.type,
            reason=None,
            attempts=0,
            updated_at=queued.updated_at,
        )
