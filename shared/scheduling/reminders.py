"""Reminder ticks: find what is due, queue it, return.

A tick reads only the reminder-index partitions (one per UTC minute) from the minute after its last run up to
now, with one range query per geography, puts them on that geography's `reminders-due` queue in batches of up to
100 (one minute each), and moves its cursor: 1,000 due reminders are one read and ten queue puts. Each batch's
trigger then puts one `sms-outbound` message per reminder (in parallel, on as many instances as the batches
land on) and deletes the batch's index entries. Nothing else is read: whether the reminder may still go
(appointment cancelled, moved, started, or more than `max_late` overdue after downtime) is decided when it is
sent, on fresh data. Every step is queued before the one behind it is forgotten, so a tick or a fan-out that
dies part-way is done again; the dispatcher sends one text however many copies are queued.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from shared.core.clock import Clock
from shared.core.errors import Conflict
from shared.core.settings import Geography
from shared.messaging.dispatch import TextDispatch
from shared.scheduling.appointments import minute_of
from shared.scheduling.models import DueReminders, ReminderCursor, ReminderDue, index_row
from shared.scheduling.reminder_plan import reminder_texts
from shared.scheduling.tables import ReminderCursorRepository, ReminderIndexRepository
from shared.storage.queue_names import REMINDERS_DUE
from shared.storage.queues import GeographyQueues
from shared.storage.repository import MAX_TRANSACTION_SIZE
from shared.storage.routing import Tables

log = logging.getLogger(__name__)


FIRST_RUN_LOOKBACK_MINUTES = 5


BATCH = MAX_TRANSACTION_SIZE  # reminders per `reminders-due` message: its index entries go in one request


@dataclass
class TickReport:
    read: int = 0  # index entries (the tick reads nothing else but its cursor)
    queued: int = 0  # reminders, in `batches` messages
    batches: int = 0


@dataclass(kw_only=True, eq=False)
class ReminderService:
    tables: Tables
    queues: GeographyQueues
    dispatch: TextDispatch
    clock: Clock

    def tick(self, geography: Geography) -> TickReport:
        now = self.clock.now()
        cursors = self.tables.in_geography(geography, ReminderCursorRepository)
        cursor = cursors.find("cursor", geography.value)
        first = cursor.last_minute if cursor else minute_of(now - timedelta(minutes=FIRST_RUN_LOOKBACK_MINUTES))
        last = minute_of(now)
        report = TickReport()
        if first >= last and cursor is not None:
            return report
        index = self.tables.in_geography(geography, ReminderIndexRepository)
        due = list(
            index.iterate(
                query="PartitionKey gt @first and PartitionKey le @last", parameters={"first": first, "last": last}
            )
        )
        report.read = len(due)
        by_minute: dict[str, list[ReminderDue]] = defaultdict(list)
        for entry in due:
            by_minute[entry.minute].append(entry)
        for minute, entries in sorted(by_minute.items()):
            for start in range(0, len(entries), BATCH):
                batch = DueReminders(minute=minute, entries=entries[start : start + BATCH])
                self.queues.send(geography, REMINDERS_DUE, batch)
                report.batches += 1
                report.queued += len(batch.entries)
        cursors.upsert(ReminderCursor(geography=geography.value, last_minute=last))
        if report.read:
            log.info("Reminder tick %s: %d queued in %d batches", geography.value, report.queued, report.batches)
        return report

    def fan_out(self, geography: Geography, batch: DueReminders) -> int:
        """One `reminders-due` message: a text message per reminder, then its index entries deleted."""
        queued = self.dispatch.enqueue_many(geography, reminder_texts(batch.entries))
        self._forget(self.tables.in_geography(geography, ReminderIndexRepository), batch.entries)
        return queued

    @staticmethod
    def _forget(index: ReminderIndexRepository, entries: list[ReminderDue]) -> None:
        """Delete a batch's entries (one minute, at most 100: one request)."""
        try:
            index.transaction([("delete", entry) for entry in entries])
        except Conflict:  # a copy of the batch deleted some already: one by one, missing ones ignored
            for entry in entries:
                index.delete(entry.minute, index_row(entry.endpoint_id, entry.appointment_key, entry.kind))
