"""Sending visit events to the endpoint's EHR through its writeback adapter."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.core.clock import Clock
from shared.setup.models import EndpointStatus, FhirEndpoint, Organisation
from shared.setup.tables import FhirEndpointRepository
from shared.storage.routing import Tables
from shared.visits.models import VisitEvent, VisitReferences
from shared.writeback.ehr import VisitContext, WritebackAdapter
from shared.writeback.models import WritebackSettings
from shared.writeback.tables import WritebackSettingsRepository

log = logging.getLogger(__name__)


MAX_ERROR = 500


def arrived(event: VisitEvent) -> bool:
    """The patient, for certain, connected: a guess at who is the patient never marks the visit arrived."""
    return event.kind == "participant_joined" and event.role == "patient" and not event.estimate


Target = tuple[FhirEndpoint, WritebackSettings]


@dataclass(kw_only=True, eq=False)
class EhrWriteback:
    """Writes visit events back through the endpoint's adapter, marking each as it succeeds.

    Each endpoint and its settings are reused for `cache_for` (every meeting event needs them); a change made
    through this worker (the settings, the endpoint's URL or approval: `forget`) applies at once, one made through
    another worker within that time.
    """

    tables: Tables
    adapters: Mapping[str, WritebackAdapter]
    clock: Clock
    cache_for: timedelta = timedelta(seconds=30)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._targets: dict[tuple[str, str], tuple[Target | None, datetime]] = {}

    def target(self, organisation: Organisation, endpoint_id: str) -> Target | None:
        """The endpoint and its writeback settings, or None when nothing is written back for it."""
        key = (organisation.tenant_id, endpoint_id)
        now = self.clock.now()
        with self._lock:
            cached = self._targets.get(key)
        if cached is not None and now - cached[1] < self.cache_for:
            return cached[0]
        target: Target | None = None
        settings = self.tables.control(WritebackSettingsRepository).find(organisation.tenant_id, endpoint_id)
        if settings is not None and settings.adapter != "none":
            endpoint = self.tables.control(FhirEndpointRepository).find(organisation.tenant_id, endpoint_id)
            approved = endpoint is not None and endpoint.status == EndpointStatus.APPROVED
            target = (endpoint, settings) if approved and endpoint is not None else None
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
        adapter = self.adapters[settings.adapter]
        pending_ids = {e.id for e in pending}
        seen_patient = any(arrived(e) and e.written_back and e.id not in pending_ids for e in history)
        for event in sorted(pending, key=lambda e: (e.at, e.id)):
            visit = VisitContext(endpoint, settings, references, event.appointment_key, seen_patient)
            adapter.write(visit, event)
            written(event)
            seen_patient = seen_patient or arrived(event)
