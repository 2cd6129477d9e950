"""Queue triggers on each enabled geography's own storage account, so that what a queue carries about an
organisation's patients stays in its geography: one function per geography, named `<name>_<geography>`, on the
`DATA_QUEUES_<GEOGRAPHY>` connection."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import azure.functions as func

from shared.core.settings import Geography
from shared.storage.queues import geography_connection

Handle = Callable[[Geography, bytes], object]


def _function(geography: Geography, handle: Handle) -> Callable[[func.QueueMessage], None]:
    def run(message: func.QueueMessage) -> None:
        handle(geography, message.get_body())

    return run


def geography_triggers(
    geographies: Iterable[Geography], *, queue: str, name: str, handle: Handle, bp: func.Blueprint | None = None
) -> func.Blueprint:
    """The triggers, on `bp` (a new blueprint when None)."""
    bp = bp or func.Blueprint()
    for geography in geographies:
        trigger = bp.queue_trigger(arg_name="message", queue_name=queue, connection=geography_connection(geography))
        bp.function_name(f"{name}_{geography.value.lower()}")(trigger(_function(geography, handle)))
    return bp
