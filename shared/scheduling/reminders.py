"""Reminder ticks: find what is due, queue it, return.

A tick reads only the reminder-index partitions (one per UTC minute) from the minute after its last run up to
now, with one range query per geography, puts one `sms-outbound` message per reminder on that geography's queue
(in parallel), deletes the index entries in batches and moves its cursor. It reads nothing else: whether the
reminder may still go (appointment cancelled, moved, started, or more than `max_late` overdue after downtime)
is decided when it is sent, on fresh data. Queued before the entries are deleted and the cursor moves, so a tick
that dies part-way queues the rest on the next run; the dispatcher sends one text however many copies are queued.
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
from shared.messaging.models import SmsOutbound
from shared.messaging.texts import reminder_version
from shared.scheduling.appointments import minute_of
from shared.scheduling.models import ReminderCursor, ReminderDue
from shared.scheduling.tables import ReminderCursorRepository, ReminderIndexRepository
from shared.storage.repository import MAX_TRANSACTION_SIZE
from shared.storage.routing import Tables

log = logging.getLogger(__name__)


FIRST_RUN_LOOKBACK_MINUTES = 5


@dataclass
class TickReport:
    read: int = 0  # index entries (the tick reads nothing else but its cursor)
    queued: int = 0


@dataclass(kw_only=True, eq=False)
class ReminderService:
    tables: Tables
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
        report.queued = self.dispatch.enqueue_many(
            geography,
            (
                SmsOutbound(
                    tenant_id=entry.tenant_id,
                    endpoint_id=entry.endpoint_id,
                    appointment_key=entry.appointment_key,
                    kind="reminder",
                    version=reminder_version(entry.due_at),
                )
                for entry in due
            ),
        )
        self._forget(index, due)
        cursors.upsert(ReminderCursor(geography=geography.value, last_minute=last))
        if report.read:
            log.info("Reminder tick %s: %d queued", geography.value, report.queued)
        return report

    @staticmethod
    def _forget(index: ReminderIndexRepository, entries: list[ReminderDue]) -> None:
        """Delete the queued entries, up to 100 per request (one partition per minute)."""
        by_minute: dict[str, list[ReminderDue]] = defaultdict(list)
        for entry in entries:
            by_minute[entry.minute].append(entry)
        for minute, group in by_minute.items():
            for start in range(0, len(group), MAX_TRANSACTION_SIZE):
                chunk = group[start : start + MAX_TRANSACTION_SIZE]
                try:
                    index.transaction([("delete", entry) for entry in chunk])
                except Conflict:  # another tick deleted some meanwhile: one by one, missing ones ignored
                    for entry in chunk:
                        index.delete(minute, f"{entry.endpoint_id}|{entry.appointment_key}")
