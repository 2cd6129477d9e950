"""The `sms-outbound` and `sms-waiting` queues: one trigger each per enabled geography, on that geography's own
storage account, so that queued texts stay in the organisation's geography. A text that must wait (rate limit,
ACS 429, backoff) is put on `sms-waiting` with a visibility delay and the trigger returns: nothing sleeps inside
the function, and a text whose time has come is not received behind a backlog of new ones."""

from __future__ import annotations

from collections.abc import Iterable

import azure.functions as func

from functions._geography import geography_triggers
from shared.core.geography import Geography
from shared.runtime import get_runtime
from shared.storage.queue_names import SMS_OUTBOUND, SMS_WAITING


def _send_text(geography: Geography, body: bytes) -> None:
    get_runtime().messaging.dispatch.handle(geography, body)


def blueprint(geographies: Iterable[Geography]) -> func.Blueprint:
    geographies = list(geographies)
    bp = geography_triggers(geographies, queue=SMS_OUTBOUND, name="send_texts", handle=_send_text)
    return geography_triggers(geographies, queue=SMS_WAITING, name="send_waiting_texts", handle=_send_text, bp=bp)
