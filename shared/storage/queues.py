"""Putting typed messages on queues, encoded as the Functions queue trigger expects (Base64 of UTF-8 JSON)."""

from __future__ import annotations

import json

from pydantic import BaseModel

from shared.core import telemetry
from shared.core.geography import Geography
from shared.storage.accounts import StorageAccount, StorageAccounts


class QueueSender:
    def __init__(self, account: StorageAccount) -> None:
        self._account = account

    def send(self, queue: str, message: BaseModel, *, delay_seconds: int = 0) -> str:
        """Enqueue a message; returns its queue message ID. Raises if the queue service did not accept it."""
        trace = telemetry.carrier()  # the trace goes on with the message
        text = (
            json.dumps({**message.model_dump(mode="json"), telemetry.CARRIER: trace}, separators=(",", ":"))
            if trace
            else message.model_dump_json()
        )
        payload = text.encode("utf-8")
        sent = self._account.queue(queue).send_message(payload, visibility_timeout=delay_seconds or None)
        return str(sent.id)


class GeographyQueues:
    """Queues in each geography's data account: messages about an organisation's patients stay in its geography."""

    def __init__(self, accounts: StorageAccounts) -> None:
        self._accounts = accounts

    def send(self, geography: Geography, queue: str, message: BaseModel, *, delay_seconds: int = 0) -> str:
        return QueueSender(self._accounts.for_geography(geography)).send(queue, message, delay_seconds=delay_seconds)
