"""Counts of the work done, recorded where it crosses the process boundary: storage transactions (by account,
table or queue, and kind), calls to Graph, the EHR and the secret store, function executions and SMS segments.

Off by default: `record` is then one attribute check, so production pays nothing. The benchmarks and the
work-count tests turn it on and read the difference around one unit of work (`measure`). Standard library only, so
that importing it costs nothing at cold start.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

Key = tuple[str, ...]
"""What was counted: ("storage", account, table or queue, kind), ("function", name), ("graph", operation),
("ehr", operation), ("secrets", operation), ("sms", "segments")."""


class Usage:
    """A thread-safe tally; `counting` is False until `start`."""

    def __init__(self) -> None:
        self.counting = False
        self._lock = threading.Lock()
        self._counts: Counter[Key] = Counter()

    def start(self) -> None:
        self.counting = True

    def stop(self) -> None:
        self.counting = False

    def record(self, *key: str, amount: int = 1) -> None:
        if not self.counting:
            return
        with self._lock:
            self._counts[key] += amount

    def snapshot(self) -> Counter[Key]:
        with self._lock:
            return Counter(self._counts)


usage = Usage()
"""The process's one tally (the storage transport, the dev host and the local stand-ins record into it)."""


class Measured:
    """What one stretch of work recorded (filled when its `measure` block ends)."""

    def __init__(self) -> None:
        self.counts: Counter[Key] = Counter()

    def of(self, *prefix: str) -> dict[Key, int]:
        """The counts whose key starts with `prefix`, without it."""
        size = len(prefix)
        return {key[size:]: n for key, n in sorted(self.counts.items()) if key[:size] == prefix and n}

    def total(self, *prefix: str) -> int:
        return sum(self.of(*prefix).values())


@contextmanager
def measure() -> Iterator[Measured]:
    """Count what the block does (counting stays on afterwards if it was on before)."""
    was_counting = usage.counting
    usage.start()
    before = usage.snapshot()
    measured = Measured()
    try:
        yield measured
    finally:
        measured.counts = usage.snapshot() - before
        if not was_counting:
            usage.stop()


def call_name(method: str, path: str) -> str:
    """A call's method and the last path segment that is not an ID (`POST createOrGet`, `GET Appointment`): the
    name a count is kept under, the same for every appointment or meeting."""
    segments = [s for s in path.split("/") if s]
    names = [s for s in segments if not any(c.isdigit() for c in s) and len(s) <= 40]
    return f"{method.upper()} {names[-1] if names else '/'}"
