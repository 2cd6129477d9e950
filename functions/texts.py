"""The `sms-outbound` queue: one trigger per enabled geography, on that geography's own storage account, so that
queued texts stay in the organisation's geography. A text that must wait (rate limit, ACS 429, backoff) is put
back on the queue with a visibility delay and the trigger returns: nothing sleeps inside the function."""

from __future__ import annotations

from collections.abc import Iterable

import azure.functions as func

from functions._geography import geography_triggers
from shared.core.settings import Geography
from shared.runtime import get_runtime
from shared.storage.queues import SMS_OUTBOUND


def _send_text(geography: Geography, body: bytes) -> None:
    get_runtime().messaging.dispatch.handle(geography, body)


def blueprint(geographies: Iterable[Geography]) -> func.Blueprint:
    return geography_triggers(geographies, queue=SMS_OUTBOUND, name="send_texts", handle=_send_text)
