"""The queues' names and connection settings: what the triggers declare when the Functions host indexes the app,
kept apart from the code that puts messages on them (queues.py), which the triggers need only when they run."""

from __future__ import annotations

from shared.core.geography import Geography

HL7_INBOUND = "hl7-inbound"
PHONE_NUMBER_JOBS = "phone-number-jobs"
REMINDER_REINDEX = "reminder-reindex"
PARTICIPANT_EVENTS = "participant-events"  # per geography; the app account's drains what older versions queued
CALL_RECORDS = "call-records"  # Teams call records to read: only their IDs
# In each geography's own account (the data stays in the organisation's geography), one trigger per geography:
SMS_OUTBOUND = "sms-outbound"
# Texts put back to wait (for their send slot, a 429's Retry-After, a backoff): a queue of their own, so that a
# text whose time has come is not stuck behind a backlog of new ones (a reminder tick queues thousands at once).
SMS_WAITING = "sms-waiting"
HL7_APPOINTMENTS = "hl7-appointments"
REMINDERS_DUE = "reminders-due"  # a reminder tick's batches, each fanned out into texts by its own trigger
LOST_LINKS = "lost-links"  # "I lost my link" requests: the number sealed, looked up by the trigger
GEOGRAPHY_QUEUES = (SMS_OUTBOUND, SMS_WAITING, HL7_APPOINTMENTS, REMINDERS_DUE, LOST_LINKS, PARTICIPANT_EVENTS)
APP_QUEUES = (HL7_INBOUND, PHONE_NUMBER_JOBS, REMINDER_REINDEX, PARTICIPANT_EVENTS, CALL_RECORDS)


def geography_connection(geography: Geography) -> str:
    """The Functions connection setting of a geography's queues (`DATA_QUEUES_EU`; in Azure its
    `__queueServiceUri`, `__credential` and `__clientId` settings, locally an Azurite connection string)."""
    return f"DATA_QUEUES_{geography.value}"
