"""Writebacks that failed: recorded when the queue gives up, listed and replayed from the portal."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shared.auth.principal import Principal, Role
from shared.core.clock import Clock
from shared.core.errors import Conflict, NotFound
from shared.setup.audit import AuditLog
from shared.setup.models import Organisation
from shared.setup.tables import OrganisationRepository
from shared.storage.queue_names import PARTICIPANT_EVENTS
from shared.storage.queues import GeographyQueues
from shared.storage.routing import Tables
from shared.writeback.delivery import MAX_ERROR
from shared.writeback.ehr import WritebackError
from shared.writeback.models import (
    MeetingEventMessage,
    WritebackFailure,
    WritebackFailureList,
    WritebackFailurePublic,
)
from shared.writeback.tables import WritebackFailureRepository

log = logging.getLogger(__name__)


@dataclass(kw_only=True, eq=False)
class WritebackFailures:
    tables: Tables
    queues: GeographyQueues
    audit: AuditLog
    clock: Clock

    def _rows(self, organisation: Organisation) -> WritebackFailureRepository:
        return self.tables.data(organisation, WritebackFailureRepository)

    def record(
        self, organisation: Organisation, message: MeetingEventMessage, error: WritebackError, attempt: int
    ) -> WritebackFailure:
        rows = self._rows(organisation)
        now = self.clock.now()
        previous = rows.find(organisation.tenant_id, message.event_id)
        failure = WritebackFailure(
            tenant_id=organisation.tenant_id,
            id=message.event_id,
            endpoint_id=message.endpoint_id,
            appointment_key=message.appointment_key,
            status="retrying" if error.retryable else "failed",
            attempts=(previous.attempts if previous else 0) + 1,
            last_error=error.detail[:MAX_ERROR],
            message=message.model_copy(update={"replayed": False}),
            first_failed_at=previous.first_failed_at if previous else now,
            last_failed_at=now,
            replayed_at=previous.replayed_at if previous else None,
            replayed_by=previous.replayed_by if previous else None,
        )
        rows.upsert(failure)
        log.warning(
            "Writeback of event %s for endpoint %s failed (attempt %d, %s)",
            message.event_id,
            message.endpoint_id,
            attempt,
            "will retry" if error.retryable else "not retried",
        )
        return failure

    def resolve(self, organisation: Organisation, message: MeetingEventMessage) -> None:
        self._rows(organisation).delete(organisation.tenant_id, message.event_id)

    def poisoned(self, message: MeetingEventMessage) -> None:
        """The queue gave up on the message: its writeback is `failed` until an admin replays it."""
        organisation = self.tables.control(OrganisationRepository).find(message.tenant_id, "organisation")
        if organisation is None:
            return
        rows = self._rows(organisation)
        found = rows.find(organisation.tenant_id, message.event_id)
        now = self.clock.now()
        if found is None:
            found = WritebackFailure(
                tenant_id=organisation.tenant_id,
                id=message.event_id,
                endpoint_id=message.endpoint_id,
                appointment_key=message.appointment_key,
                status="failed",
                last_error="The event could not be processed; see the function's logs.",
                message=message,
                first_failed_at=now,
                last_failed_at=now,
            )
        rows.upsert(found.model_copy(update={"status": "failed"}))

    def list_failures(self, principal: Principal) -> WritebackFailureList:
        principal.require(Role.ADMIN)
        organisation = self._organisation(principal)
        items = [WritebackFailurePublic.of(f) for f in self._rows(organisation).iterate(principal.tenant_id)]
        items.sort(key=lambda f: f.last_failed_at, reverse=True)
        return WritebackFailureList(items=items)

    def replay(self, principal: Principal, event_id: str) -> WritebackFailure:
        principal.require(Role.ADMIN)
        organisation = self._organisation(principal)
        rows = self._rows(organisation)
        try:
            current = rows.get_versioned(principal.tenant_id, event_id)
        except NotFound:
            raise NotFound("There is no failed writeback with this ID; it may have succeeded since.") from None
        if current.item.status != "failed":
            raise Conflict(f"This writeback is {current.item.status}, not failed; wait for it to finish.")
        replayed = current.item.model_copy(
            update={"status": "replayed", "replayed_at": self.clock.now(), "replayed_by": principal.user_id}
        )
        # Queued first: if marking it fails, it stays `failed` and may be replayed again, which writes nothing
        # twice (events remember their writeback).
        message = current.item.message.model_copy(update={"replayed": True})
        self.queues.send(organisation.geography, PARTICIPANT_EVENTS, message)
        try:
            rows.replace(replayed, current.etag)
        except (Conflict, NotFound):
            pass  # a concurrent replay or the processor changed it meanwhile; the message is queued either way
        self.audit.by(principal, action="replay", entity="writeback", entity_id=event_id)
        return replayed

    def _organisation(self, principal: Principal) -> Organisation:
        organisation = self.tables.control(OrganisationRepository).find(principal.tenant_id, "organisation")
        if organisation is None:
            raise NotFound("Your organisation is not set up yet.")
        return organisation
