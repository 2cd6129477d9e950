"""Timer triggers on their NCRONTAB schedule (six fields, seconds first, UTC), driven by an injected clock.

As in the Functions host: occurrences missed while the host was busy or down are not replayed one by one; the
next tick fires once with `past_due` set, then the schedule continues from now.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from croniter import croniter

from shared.core.clock import Clock

log = logging.getLogger(__name__)

# A timer is "past due" when it fires more than this after its scheduled time.
PAST_DUE_GRACE = timedelta(seconds=15)

Invoke = Callable[[str, bool], Awaitable[None]]


class ScheduleError(ValueError):
    pass


def parse_schedule(schedule: str) -> str:
    fields = schedule.split()
    if len(fields) != 6 or not croniter.is_valid(schedule, second_at_beginning=True):
        raise ScheduleError(
            f"Timer schedule {schedule!r} is not a six-field NCRONTAB expression "
            "('{second} {minute} {hour} {day} {month} {day-of-week}')"
        )
    return schedule


@dataclass
class ScheduledTimer:
    name: str
    schedule: str
    run_on_startup: bool
    next_due: datetime | None = None

    def following(self, after: datetime) -> datetime:
        result: datetime = croniter(self.schedule, after, second_at_beginning=True).get_next(datetime)
        return result


@dataclass(frozen=True)
class Firing:
    name: str
    scheduled_for: datetime
    past_due: bool


class TimerScheduler:
    def __init__(self, timers: list[ScheduledTimer], clock: Clock, invoke: Invoke) -> None:
        for timer in timers:
            parse_schedule(timer.schedule)
        self._timers = timers
        self._clock = clock
        self._invoke = invoke
        self._started = False

    def _start(self, now: datetime) -> None:
        for timer in self._timers:
            timer.next_due = now if timer.run_on_startup else timer.following(now)
        self._started = True

    async def run_due(self) -> list[Firing]:
        """Fire every timer that is due at the clock's current time (each at most once)."""
        now = self._clock.now()
        if not self._started:
            self._start(now)
        fired: list[Firing] = []
        for timer in self._timers:
            assert timer.next_due is not None
            if now < timer.next_due:
                continue
            firing = Firing(timer.name, timer.next_due, now - timer.next_due > PAST_DUE_GRACE)
            timer.next_due = timer.following(now)
            fired.append(firing)
            try:
                await self._invoke(timer.name, firing.past_due)
            except Exception:
                log.exception("Timer function %s failed", timer.name)
        return fired

    def seconds_until_next(self) -> float:
        if not self._timers or not self._started:
            return 1.0
        now = self._clock.now()
        soonest = min(t.next_due for t in self._timers if t.next_due is not None)
        return max(0.0, (soonest - now).total_seconds())

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.run_due()
            try:
                await asyncio.wait_for(stop.wait(), timeout=min(self.seconds_until_next(), 30.0) + 0.01)
            except TimeoutError:
                pass
