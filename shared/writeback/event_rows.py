"""A meeting notification's visit events as they are stored: the new ones with their writeback outcome and the
retried ones' outcomes in one entity group transaction (one visit's events share its partition)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from shared.core.errors import Conflict
from shared.core.retry import retry_delay
from shared.storage.repository import MAX_TRANSACTION_SIZE, Operation
from shared.visits.models import VisitEvent
from shared.visits.tables import VisitEventRepository

log = logging.getLogger(__name__)


STORE_ATTEMPTS = 6  # 1 + 2 + 4 + 8 + 8 seconds apart: a storage outage of about half a minute


def store_patiently(
    rows: VisitEventRepository,
    new: list[VisitEvent],
    updated: list[VisitEvent],
    known: dict[str, VisitEvent],
    *,
    written: bool,
    sleep: Callable[[float], None],
) -> list[VisitEvent]:
    """`store`; when the EHR has taken some of these events (`written`), through a storage outage of up to about
    half a minute: given up, the queue's redelivery would write them back a second time."""
    from azure.core.exceptions import ServiceRequestError, ServiceResponseError

    for attempt in range(1, STORE_ATTEMPTS + 1):
        try:
            return store(rows, new, updated, known)
        except (ServiceRequestError, ServiceResponseError):
            if not written or attempt == STORE_ATTEMPTS:
                raise
            log.warning("Visit events written back but not stored yet (storage unreachable); try %d", attempt)
            sleep(retry_delay(attempt, None, first=1.0, cap=8.0))
    raise AssertionError("unreachable")


def store(
    rows: VisitEventRepository, new: list[VisitEvent], updated: list[VisitEvent], known: dict[str, VisitEvent]
) -> list[VisitEvent]:
    """The new events and the retried ones' outcomes in one entity group transaction (they share the visit's
    partition); when a concurrent delivery stored one of them first, one by one, keeping what is stored."""
    operations: list[tuple[Operation, VisitEvent]] = [("upsert", e) for e in updated]
    operations += [("create", e) for e in new]
    try:
        for first in range(0, len(operations), MAX_TRANSACTION_SIZE):
            rows.transaction(operations[first : first + MAX_TRANSACTION_SIZE])
    except Conflict:
        created: list[VisitEvent] = []
        for event in updated:
            rows.upsert(event)
        for event in new:
            try:
                rows.create(event)
                created.append(event)
            except Conflict:
                known[event.id] = rows.get(event.appointment_key, event.id)
    else:
        created = list(new)
    for event in created:
        known[event.id] = event
    return created


def marking(new: list[VisitEvent], updated: list[VisitEvent]) -> Callable[[VisitEvent], None]:
    """After each event written back: a new one is stored with its outcome, a stored one is updated."""
    fresh = {id(e) for e in new}

    def written(event: VisitEvent) -> None:
        if id(event) in fresh:
            event.written_back = True
        else:
            updated.append(event.model_copy(update={"written_back": True}))

    return written
