"""Putting typed messages on queues, encoded as the Functions queue trigger expects (Base64 of UTF-8 JSON)."""

from __future__ import annotations

from pydantic import BaseModel

from shared.core.settings import Geography
from shared.storage.accounts import StorageAccount, StorageAccounts

HL7_INBOUND = "hl7-inbound"
PHONE_NUMBER_JOBS = "phone-number-jobs"
REMINDER_REINDEX = "reminder-reindex"
PARTICIPANT_EVENTS = "participant-events"
# In each geography's own account (the data stays in the organisation's geography), one trigger per geography:
SMS_OUTBOUND = "sms-outbound"
# Texts put back to wait (for their send slot, a 429's Retry-After, a backoff): a queue of their own, so that a
# text whose time has come is not stuck behind a backlog of new ones (a reminder tick queues thousands at once).
SMS_WAITING = "sms-waiting"
HL7_APPOINTMENTS = "hl7-appointments"
REMINDERS_DUE = "reminders-due"  # a reminder tick's batches, each fanned out into texts by its own trigger
GEOGRAPHY_QUEUES = (SMS_OUTBOUND, SMS_WAITING, HL7_APPOINTMENTS, REMINDERS_DUE)
APP_QUEUES = (HL7_INBOUND, PHONE_NUMBER_JOBS, REMINDER_REINDEX, PARTICIPANT_EVENTS)


def geography_connection(geography: Geography) -> str:
    """The Functions connection setting of a geography's queues (`DATA_QUEUES_EU`; in Azure its
    `__queueServiceUri`, `__credential` and `__clientId` settings, locally an Azurite connection string)."""
    return f"DATA_QUEUES_{geography.value}"


class QueueSender:
    def __init__(self, account: StorageAccount) -> None:
        self._account = account

    def send(self, queue: str, message: BaseModel, *, delay_seconds: int = 0) -> str:
        """Enqueue a message; returns its queue message ID. Raises if the queue service did not accept it."""
        payload = message.model_dump_json().encode("utf-8")
        sent = self._account.queue(queue).send_message(payload, visibility_timeout=delay_seconds or None)
        return str(sent.id)


class GeographyQueues:
    """Queues in each geography's data account: messages about an organisation's patients stay in its geography."""

    def __init__(self, accounts: StorageAccounts) -> None:
        self._accounts = accounts

    def send(self, geography: Geography, queue: str, message: BaseModel, *, delay_seconds: int = 0) -> str:
        return QueueSender(self._accounts.for_geography(geography)).send(queue, message, delay_seconds=delay_seconds)
