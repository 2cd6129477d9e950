"""EHR writeback of visit events, per endpoint: its settings (admins), the adapter they choose, and the record
of writebacks that failed, which admins list and replay.

A failure the EHR may get over (429, 5xx, network) is retried by the queue and, after `maxDequeueCount`
deliveries, lands in the poison queue, whose trigger marks it `failed`. A failure retrying cannot fix (the
EHR refused the request, or the visit's EHR identifiers are not known yet) is marked `failed` at once and the
message is not retried. Replaying puts the stored message back on the queue; its events that were written back
before are not written again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from shared.auth.principal import Principal, Role
from shared.clock import Clock
from shared.ehr import VisitContext, WritebackAdapter, WritebackError
from shared.errors import Conflict, InvalidInput, NotFound
from shared.models.endpoint import FhirEndpoint
from shared.models.organisation import Organisation
from shared.models.participants import MeetingEventMessage, VisitEvent
from shared.models.visit import VisitReferences
from shared.models.writeback import (
    WritebackFailure,
    WritebackFailureList,
    WritebackFailurePublic,
    WritebackSettings,
    WritebackSettingsPublic,
    WritebackSettingsUpdate,
)
from shared.services.audit import AuditLog
from shared.services.endpoints import EndpointService
from shared.storage.queues import PARTICIPANT_EVENTS, QueueSender
from shared.storage.routing import Tables
from shared.storage.tables import (
    FhirEndpointRepository,
    OrganisationRepository,
    WritebackFailureRepository,
    WritebackSettingsRepository,
)

log = logging.getLogger(__name__)
MAX_ERROR = 500


class WritebackSetup:
    """The writeback settings of an organisation's endpoints (admins)."""

    def __init__(
        self,
        tables: Tables,
        endpoints: EndpointService,
        writeback: EhrWriteback,
        audit: AuditLog,
        clock: Clock,
        jwks_url: str,
        allow_http: bool,
    ) -> None:
        self._settings = tables.control(WritebackSettingsRepository)
        self._writeback = writeback
        self._endpoints = endpoints
        self._audit = audit
        self._clock = clock
        self._jwks_url = jwks_url
        self._allow_http = allow_http

    def public(self, settings: WritebackSettings) -> WritebackSettingsPublic:
        return WritebackSettingsPublic(
            **settings.model_dump(include=set(WritebackSettingsUpdate.model_fields) | {"endpoint_id", "updated_at"}),
            jwks_url=self._jwks_url,
        )

    def get(self, principal: Principal, endpoint_id: str) -> WritebackSettings:
        principal.require(Role.ADMIN)
        endpoint = self._endpoints.get(principal, endpoint_id)
        found = self._settings.find(principal.tenant_id, endpoint.id)
        if found is None:
            raise NotFound("This endpoint has no writeback settings yet; nothing is written back to its EHR.")
        return found

    def update(self, principal: Principal, endpoint_id: str, update: WritebackSettingsUpdate) -> WritebackSettings:
        principal.require(Role.ADMIN)
        endpoint = self._endpoints.get(principal, endpoint_id)
        if update.epic_path.startswith("http://") and not self._allow_http:
            raise InvalidInput("The web service must be reached over https.", {"epic_path": "use an https URL"})
        settings = WritebackSettings(
            tenant_id=principal.tenant_id,
            endpoint_id=endpoint.id,
            updated_at=self._clock.now(),
            updated_by=principal.user_id,
            **update.model_dump(),
        )
        self._settings.upsert(settings)
        self._writeback.forget(principal.tenant_id, endpoint.id)
        self._audit.by(
            principal,
            action="update",
            entity="writeback_settings",
            entity_id=endpoint.id,
            fields=update.model_fields_set,
        )
        return settings


Target = tuple[FhirEndpoint, WritebackSettings]


class EhrWriteback:
    """Writes visit events back through the endpoint's adapter, marking each as it succeeds.

    Each endpoint's settings are reused for `cache_for` (every meeting event needs them); a change made through
    this worker applies at once, one made through another worker within that time.
    """

    def __init__(
        self,
        tables: Tables,
        adapters: Mapping[str, WritebackAdapter],
        clock: Clock,
        cache_for: timedelta = timedelta(seconds=30),
    ) -> None:
        self._tables = tables
        self._adapters = adapters
        self._clock = clock
        self._cache_for = cache_for
        self._lock = threading.Lock()
        self._targets: dict[tuple[str, str], tuple[Target | None, datetime]] = {}

    def target(self, organisation: Organisation, endpoint_id: str) -> Target | None:
        """The endpoint and its writeback settings, or None when nothing is written back for it."""
        key = (organisation.tenant_id, endpoint_id)
        now = self._clock.now()
        with self._lock:
            cached = self._targets.get(key)
        if cached is not None and now - cached[1] < self._cache_for:
            return cached[0]
        target: Target | None = None
        settings = self._tables.control(WritebackSettingsRepository).find(organisation.tenant_id, endpoint_id)
        if settings is not None and settings.adapter != "none":
            endpoint = self._tables.control(FhirEndpointRepository).find(organisation.tenant_id, endpoint_id)
            target = None if endpoint is None else (endpoint, settings)
        with self._lock:
            self._targets[key] = (target, now)
        return target

    def forget(self, tenant_id: str, endpoint_id: str) -> None:
        with self._lock:
            self._targets.pop((tenant_id, endpoint_id), None)

    def write(
        self,
        target: Target,
        references: VisitReferences,
        history: list[VisitEvent],
        pending: list[VisitEvent],
        written: Callable[[VisitEvent], None],
    ) -> None:
        """Write `pending` in order; `written(event)` after each success. Raises WritebackError."""
        endpoint, settings = target
        adapter = self._adapters[settings.adapter]
        pending_ids = {e.id for e in pending}
        seen_patient = any(
            e.kind == "participant_joined" and e.role == "patient" and e.written_back and e.id not in pending_ids
            for e in history
        )
        for event in sorted(pending, key=lambda e: (e.at, e.id)):
            visit = VisitContext(endpoint, settings, references, event.appointment_key, seen_patient)
            adapter.write(visit, event)
            written(event)
            seen_patient = seen_patient or (event.kind == "participant_joined" and event.role == "patient")


class WritebackFailures:
    def __init__(self, tables: Tables, queues: QueueSender, audit: AuditLog, clock: Clock) -> None:
        self._tables = tables
        self._queues = queues
        self._audit = audit
        self._clock = clock

    def _rows(self, organisation: Organisation) -> WritebackFailureRepository:
        return self._tables.data(organisation, WritebackFailureRepository)

    def record(
        self, organisation: Organisation, message: MeetingEventMessage, error: WritebackError, attempt: int
    ) -> WritebackFailure:
        rows = self._rows(organisation)
        now = self._clock.now()
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
        organisation = self._tables.control(OrganisationRepository).find(message.tenant_id, "organisation")
        if organisation is None:
            return
        rows = self._rows(organisation)
        found = rows.find(organisation.tenant_id, message.event_id)
        now = self._clock.now()
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
            update={"status": "replayed", "replayed_at": self._clock.now(), "replayed_by": principal.user_id}
        )
        # Queued first: if marking it fails, it stays `failed` and may be replayed again, which writes nothing
        # twice (events remember their writeback).
        self._queues.send(PARTICIPANT_EVENTS, current.item.message.model_copy(update={"replayed": True}))
        try:
            rows.replace(replayed, current.etag)
        except (Conflict, NotFound):
            pass  # a concurrent replay or the processor changed it meanwhile; the message is queued either way
        self._audit.by(principal, action="replay", entity="writeback", entity_id=event_id)
        return replayed

    def _organisation(self, principal: Principal) -> Organisation:
        organisation = self._tables.control(OrganisationRepository).find(principal.tenant_id, "organisation")
        if organisation is None:
            raise NotFound("Your organisation is not set up yet.")
        return organisation
