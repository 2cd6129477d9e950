"""A meeting notification's visit events as they are stored: the new ones with their writeback outcome and the
retried ones' outcomes in one entity group transaction (one visit's events share its partition)."""

from __future__ import annotations

from collections.abc import Callable

from shared.core.errors import Conflict
from shared.storage.repository import MAX_TRANSACTION_SIZE, Operation
from shared.visits.models import VisitEvent
from shared.visits.tables import VisitEventRepository


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
