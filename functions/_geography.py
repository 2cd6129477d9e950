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
MessageHandle = Callable[[Geography, func.QueueMessage], object]
"""A handler that needs more than the body (the message's dequeue count, for a retry's attempt number)."""


def _body_only(handle: Handle) -> MessageHandle:
    return lambda geography, message: handle(geography, message.get_body())


def _function(name: str, geography: Geography, handle: MessageHandle) -> Callable[[func.QueueMessage], None]:
    def run(message: func.QueueMessage) -> None:
        handle(geography, message)

    run.__name__ = run.__qualname__ = name
    return traced(run)


def geography_triggers(
    geographies: Iterable[Geography],
    *,
    queue: str,
    name: str,
    handle: Handle | None = None,
    on_message: MessageHandle | None = None,
    bp: func.Blueprint | None = None,
) -> func.Blueprint:
    """The triggers, on `bp` (a new blueprint when None), calling `handle` with the body or `on_message` with the
    whole message."""
    if on_message is None:
        if handle is None:
            raise TypeError("geography_triggers needs handle or on_message")
        on_message = _body_only(handle)
    bp = bp or func.Blueprint()
    for geography in geographies:
        trigger = bp.queue_trigger(arg_name="message", queue_name=queue, connection=geography_connection(geography))
        function_name = f"{name}_{geography.value.lower()}"
        bp.function_name(function_name)(trigger(_function(function_name, geography, on_message)))
    return bp
