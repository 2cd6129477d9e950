"""Health: the version, whether each configured storage account answers, and the messages waiting in poison
queues (as counted by the last purge run; they do not make the app unhealthy)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol


class Probe(Protocol):
    label: str

    def ping(self, timeout: float) -> bool: ...


@dataclass(frozen=True)
class HealthReport:
    version: str
    environment: str
    storage: dict[str, bool]
    poison: dict[str, int]

    @property
    def healthy(self) -> bool:
        return all(self.storage.values())


@dataclass(kw_only=True, eq=False)
class HealthService:
    probes: Sequence[Probe]
    version: str
    environment: str
    timeout: float
    poison: Callable[[], dict[str, int]] = dict

    def __post_init__(self) -> None:
        # In parallel, so that one dead account costs one self.timeout, not one per account.
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(self.probes)), thread_name_prefix="health")

    def check(self) -> HealthReport:
        results = self._pool.map(lambda probe: (probe.label, probe.ping(self.timeout)), self.probes)
        try:
            poison = self.poison()
        except Exception:  # noqa: BLE001 - the counts are a hint; an unreachable account is reported above
            poison = {}
        return HealthReport(self.version, self.environment, dict(results), poison)
