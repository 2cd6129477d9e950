"""Poison queues: messages that failed `maxDequeueCount` times. They hold keys and typed changes only (no name,
date of birth, MRN; a phone number only inside an HL7 change for an endpoint that sends texts), and are kept a
day for investigation, then purged. Each run records, per queue, how many are left and how many it purged; the
health report shows them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel

from shared.core.clock import Clock
from shared.storage.accounts import StorageAccount, StorageAccounts
from shared.storage.queue_names import APP_QUEUES, GEOGRAPHY_QUEUES
from shared.storage.repository import TableRepository

log = logging.getLogger(__name__)

KEEP_FOR = timedelta(days=1)
BATCH = 32  # the most a receive returns
MAX_BATCHES = 100  # per queue per run; the rest waits for the next run


class PoisonQueueCount(BaseModel):
    queue: str  # account label / queue name
    waiting: int
    purged: int
    checked_at: datetime


class PoisonQueueCountRepository(TableRepository[PoisonQueueCount], table="poisonqueues", keys=("poison", "{queue}")):
    """The last purge run's counts (control plane)."""


@dataclass(kw_only=True, eq=False)
class PoisonPurge:
    accounts: StorageAccounts
    counts: PoisonQueueCountRepository
    clock: Clock

    def queues(self) -> list[tuple[StorageAccount, str]]:
        found = [(self.accounts.app, f"{name}-poison") for name in APP_QUEUES]
        for account in self.accounts.all():
            if account is not self.accounts.app:
                found.extend((account, f"{name}-poison") for name in GEOGRAPHY_QUEUES)
        return found

    def run(self) -> dict[str, int]:
        """Purge what is older than a day; the messages left, per queue."""
        left: dict[str, int] = {}
        now = self.clock.now()
        for account, name in self.queues():
            label = f"{account.label}/{name}"
            purged = self._purge(account, name, now - KEEP_FOR)
            waiting = int(account.queue(name).get_queue_properties().approximate_message_count or 0)
            self.counts.upsert(PoisonQueueCount(queue=label, waiting=waiting, purged=purged, checked_at=now))
            left[label] = waiting
            if purged or waiting:
                log.warning("Poison queue %s: %d purged, %d waiting", label, purged, waiting)
        return left

    def last_counts(self) -> dict[str, int]:
        return {row.queue: row.waiting for row in self.counts.iterate("poison")}

    @staticmethod
    def _purge(account: StorageAccount, name: str, before: datetime) -> int:
        account.queue(name)  # created if missing
        client = account.queue_service.get_queue_client(name)  # raw: a message that is not Base64 is purged too
        purged = 0
        for _ in range(MAX_BATCHES):
            batch = list(client.receive_messages(messages_per_page=BATCH, max_messages=BATCH, visibility_timeout=30))
            old = [m for m in batch if m.inserted_on is not None and m.inserted_on < before]
            for message in batch:
                if message in old:
                    client.delete_message(message.id, message.pop_receipt)
                else:  # kept: visible again at once, for the next run and for anyone investigating
                    client.update_message(message.id, message.pop_receipt, visibility_timeout=0)
            purged += len(old)
            if len(batch) < BATCH or not old:
                break
        return purged
