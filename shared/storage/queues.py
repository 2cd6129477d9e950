"""Putting typed messages on queues, encoded as the Functions queue trigger expects (Base64 of UTF-8 JSON)."""

from __future__ import annotations

from pydantic import BaseModel

from shared.storage.accounts import StorageAccount

HL7_INBOUND = "hl7-inbound"
PHONE_NUMBER_JOBS = "phone-number-jobs"
REMINDER_REINDEX = "reminder-reindex"
PARTICIPANT_EVENTS = "participant-events"


class QueueSender:
    def __init__(self, account: StorageAccount) -> None:
        self._account = account

    def send(self, queue: str, message: BaseModel, *, delay_seconds: int = 0) -> str:
        """Enqueue a message; returns its queue message ID. Raises if the queue service did not accept it."""
        payload = message.model_dump_json().encode("utf-8")
        sent = self._account.queue(queue).send_message(payload, visibility_timeout=delay_seconds or None)
        return str(sent.id)
