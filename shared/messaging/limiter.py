"""A sender number's rate limit, shared by every instance through one table row per number (GCRA).

The row holds the number's next free slot. A claim reads it, takes that slot (or now, if it is past) and moves
the row on by one interval, writing it back with the ETag: two instances claiming at once cannot both win, so
the number's limit holds however many instances run. A claim never sleeps: when the slot it took is in the
future, the caller puts the text back on the queue until then, holding the slot, so every waiting text is
claimed once and goes at its own time instead of all retrying together.

To stay within the provider's limit over any sliding minute, the limiter runs slightly below it: the burst is
taken off the rate, and a 2% margin covers the time between a claim and the provider's receipt.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.core.clock import Clock
from shared.core.errors import Conflict, NotFound
from shared.messaging.models import SendSlot
from shared.messaging.tables import SendSlotRepository

MARGIN = 0.98
MAX_TRIES = 20  # ETag races between instances claiming the same number's slot at once


@dataclass(frozen=True)
class Pace:
    interval: timedelta  # between two texts
    tolerance: timedelta  # how far ahead of its slot a text may go (the burst)

    @classmethod
    def per_minute(cls, limit: int) -> Pace:
        burst = max(1, limit // 60)
        effective = max(1.0, limit * MARGIN - burst)
        interval = timedelta(seconds=60 / effective)
        return cls(interval=interval, tolerance=interval * (burst - 1))


@dataclass(kw_only=True, eq=False)
class SenderLimiter:
    slots: SendSlotRepository
    clock: Clock

    def __post_init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, sender: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(sender, threading.Lock())

    def claim(self, sender: str, pace: Pace) -> datetime:
        """Take the number's next slot: the time this text may go (now or earlier: at once)."""
        taken = self._move(sender, lambda next_at: next_at + pace.interval)
        if taken is None:  # heavy contention: come back later and claim again
            return self.clock.now() + pace.interval * MAX_TRIES
        return taken - pace.tolerance

    def hold(self, sender: str, until: datetime) -> None:
        """The provider throttled this number: no instance claims a slot before `until`."""
        self._move(sender, lambda next_at: max(next_at, until))

    def _move(self, sender: str, change: Callable[[datetime], datetime]) -> datetime | None:
        """Move the number's next free slot (read, change, written back with the ETag; again on a race); the
        slot it moved from (never before now), or None if it kept losing races. One thread of this instance at a
        time: threads racing each other for one row would only lose ETag races (a reminder tick's texts arrive in
        batches of 16 per instance); only other instances' claims remain to race with."""
        with self._lock(sender):
            return self._move_once(sender, change)

    def _move_once(self, sender: str, change: Callable[[datetime], datetime]) -> datetime | None:
        for _ in range(MAX_TRIES):
            now = self.clock.now()
            try:
                stored = self.slots.get_versioned(sender, "slot")
                etag: str | None = stored.etag
                next_at = max(stored.item.next_at, now)
            except NotFound:
                etag, next_at = None, now
            slot = SendSlot(sender=sender, next_at=change(next_at))
            try:
                if etag is None:
                    self.slots.create(slot)
                else:
                    self.slots.replace(slot, etag)
            except Conflict:
                continue
            return next_at
        return None


@dataclass(frozen=True)
class SmsLimits:
    per_minute: dict[str, int]  # by number type
    max_attempts: int
    reminder_max_late: timedelta

    def pace(self, number_type: str) -> Pace:
        return Pace.per_minute(self.per_minute.get(number_type) or self.per_minute["toll_free"])
