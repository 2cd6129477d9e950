"""The `sms-outbound` queue: one trigger per enabled geography, on that geography's own storage account, so that
queued texts stay in the organisation's geography. A text that must wait (rate limit, ACS 429, backoff) is put
back on the queue with a visibility delay and the trigger returns: nothing sleeps inside the function."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import azure.functions as func

from shared.core.settings import Geography
from shared.runtime import get_runtime
from shared.storage.queues import SMS_OUTBOUND, geography_connection


def _sender(geography: Geography) -> Callable[[func.QueueMessage], None]:
    def send_text(message: func.QueueMessage) -> None:
        get_runtime().messaging.dispatch.handle(geography, message.get_body())

    return send_text


def blueprint(geographies: Iterable[Geography]) -> func.Blueprint:
    bp = func.Blueprint()
    for geography in geographies:
        trigger = bp.queue_trigger(
            arg_name="message", queue_name=SMS_OUTBOUND, connection=geography_connection(geography)
        )
        bp.function_name(f"send_texts_{geography.value.lower()}")(trigger(_sender(geography)))
    return bp
