"""Queue triggers on each enabled geography's own storage account, so that what a queue carries about an
organisation's patients stays in its geography: one function per geography, named `<name>_<geography>`, on the
`DATA_QUEUES_<GEOGRAPHY>` connection."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import azure.functions as func

from functions._telemetry import traced
from shared.core.geography import Geography
from shared.storage.queue_names import geography_connection

Handle = Callable[[Geography, bytes], object]


def _function(name: str, geography: Geography, handle: Handle) -> Callable[[func.QueueMessage], None]:
    def run(message: func.QueueMessage) -> None:
        handle(geography, message.get_body())

    run.__name__ = run.__qualname__ = name
    return traced(run)


def geography_triggers(
    geographies: Iterable[Geography], *, queue: str, name: str, handle: Handle, bp: func.Blueprint | None = None
) -> func.Blueprint:
    """The triggers, on `bp` (a new blueprint when None)."""
    bp = bp or func.Blueprint()
    for geography in geographies:
        trigger = bp.queue_trigger(arg_name="message", queue_name=queue, connection=geography_connection(geography))
        function_name = f"{name}_{geography.value.lower()}"
        bp.function_name(function_name)(trigger(_function(function_name, geography, handle)))
    return bp
