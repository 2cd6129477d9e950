"""A per-source rate limit for anonymous HTTP triggers (launch, join links, HL7, the meeting-events webhook):
a token bucket per client address, as Azure Front Door's WAF rate-limit rule does in front of the function app
(infra/modules/ratelimit.bicep). Over the limit, the host answers 429 with Retry-After before the function runs."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import datetime

from shared.core.clock import Clock

MAX_SOURCES = 10_000


@dataclass
class _Bucket:
    tokens: float
    at: datetime


class SourceLimiter:
    def __init__(self, per_minute: int, burst: int, clock: Clock) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}

    def wait(self, source: str) -> int:
        """0 when a request from `source` may go ahead now (and counts it), else the seconds to wait."""
        now = self._clock.now()
        with self._lock:
            bucket = self._buckets.get(source)
            if bucket is None:
                if len(self._buckets) >= MAX_SOURCES:
                    self._buckets.clear()
                bucket = self._buckets[source] = _Bucket(self._burst, now)
            bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.at).total_seconds() * self._rate)
            bucket.at = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0
            return max(1, math.ceil((1 - bucket.tokens) / self._rate))
