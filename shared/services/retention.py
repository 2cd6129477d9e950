"""Retention: data the connector no longer needs is deleted on a schedule."""

from __future__ import annotations

import logging

from shared.clock import Clock
from shared.storage.tables import LaunchStateRepository

log = logging.getLogger(__name__)


class LaunchStatePurge:
    """OAuth states of launches and sign-ins that were never completed are deleted once they have expired."""

    def __init__(self, states: LaunchStateRepository, clock: Clock) -> None:
        self._states = states
        self._clock = clock

    def run(self) -> int:
        expired = list(self._states.iterate(query="expires_at lt @now", parameters={"now": self._clock.now()}))
        for state in expired:
            partition, row = self._states.keys(state)
            self._states.delete(partition, row)
        if expired:
            log.info("Deleted %d expired launch states", len(expired))
        return len(expired)
