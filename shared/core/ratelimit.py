"""A keyed token bucket: `rate_per_minute` per key, bursts up to `burst`. `take` answers at once (the texts
senders' pacing waits with `acquire`; the dev host answers 429 per client address with `take`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from shared.core.clock import Clock


class TokenBucket:
    def __init__(
        self,
        rate_per_minute: float,
        burst: int,
        clock: Clock,
        sleep: Callable[[float], None] = time.sleep,
        max_keys: int = 10_000,
    ) -> None:
        self._rate = rate_per_minute / 60.0
        self._burst = float(burst)
        self._clock = clock
        self._sleep = sleep
        self._max_keys = max_keys
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: str) -> float:
        """0 when a token for `key` was taken; otherwise the seconds until one is there (none taken)."""
        with self._lock:
            now = self._clock.now().timestamp()
            if key not in self._state and len(self._state) >= self._max_keys:
                self._state.clear()  # bounded: a flood of keys forgets the rest, never grows without end
            tokens, at = self._state.get(key, (self._burst, now))
            tokens = min(self._burst, tokens + (now - at) * self._rate)
            if tokens >= 1:
                self._state[key] = (tokens - 1, now)
                return 0.0
            self._state[key] = (tokens, now)
            return (1 - tokens) / self._rate

    def acquire(self, key: str) -> float:
        """Take a token for `key`, waiting if needed; the seconds waited."""
        waited = 0.0
        while (wait := self.take(key)) > 0:
            self._sleep(wait)
            waited += wait
        return waited
