"""How long to wait before trying a failing upstream again: what its Retry-After asks (within reason), or else
exponential backoff. Shared by the Graph meeting provider and the EHR writeback client."""

from __future__ import annotations

MAX_RETRY_AFTER = 30.0  # a longer wait is the queue's job (its visibility timeout), not a sleeping worker's


def retry_delay(attempt: int, retry_after: str | float | None, *, first: float, cap: float) -> float:
    """Seconds before try `attempt + 1`: Retry-After (seconds) when given and numeric, clamped to 0..30; else
    `first`, doubling with each attempt, at most `cap`."""
    if retry_after is not None:
        try:
            return min(max(float(retry_after), 0.0), MAX_RETRY_AFTER)
        except ValueError:
            pass
    return float(min(first * 2 ** (attempt - 1), cap))
