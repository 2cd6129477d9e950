"""Secret stores: Key Vault in Azure, environment variables locally. Secrets are read on demand and cached for
a short while, so a rotated secret takes effect without a restart."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from shared.core.clock import Clock
from shared.core.errors import InvalidInput, NotFound

# Key Vault's rule for secret names; the env store follows it too so that names are portable.
_NAME = re.compile(r"^[0-9A-Za-z-]{1,127}$")


def check_secret_name(name: str) -> str:
    if not _NAME.match(name):
        raise InvalidInput(f"Secret name {name!r} must be 1-127 letters, digits or dashes.")
    return name


class SecretStore(Protocol):
    def get(self, name: str) -> str:
        """The current value of a secret; `NotFound` if it does not exist."""
        ...

    def set(self, name: str, value: str) -> None:
        """Create or update a secret (a new version in Key Vault)."""
        ...


MISS_TTL = timedelta(minutes=1)
MAX_CACHED = 4096


class CachedSecretStore:
    """Wraps a store so that each secret is fetched at most once per `ttl`, and a missing one at most once a minute
    (names can come from requests: `/api/.well-known/jwks/{tenant}`). The least recently used of more than
    `max_entries` names are forgotten, so no stream of names grows the cache."""

    def __init__(self, inner: SecretStore, ttl: timedelta, clock: Clock, *, max_entries: int = MAX_CACHED) -> None:
        self._inner = inner
        self._ttl = ttl
        self._miss_ttl = min(ttl, MISS_TTL)  # no caching (ttl 0) caches no misses either
        self._clock = clock
        self._max_entries = max_entries
        self._lock = threading.Lock()
        self._values: OrderedDict[str, tuple[str | None, datetime]] = OrderedDict()

    def get(self, name: str) -> str:
        now = self._clock.now()
        with self._lock:
            cached = self._values.get(name)
            if cached and cached[1] > now:
                self._values.move_to_end(name)
        if cached and cached[1] > now:
            if cached[0] is None:
                raise NotFound(f"The secret {name} does not exist.")
            return cached[0]
        try:
            value = self._inner.get(name)
        except NotFound:
            self._remember(name, None, now + self._miss_ttl)
            raise
        self._remember(name, value, now + self._ttl)
        return value

    def _remember(self, name: str, value: str | None, until: datetime) -> None:
        with self._lock:
            self._values[name] = (value, until)
            self._values.move_to_end(name)
            while len(self._values) > self._max_entries:
                self._values.popitem(last=False)

    def set(self, name: str, value: str) -> None:
        self._inner.set(name, value)
        self.forget(name)

    def forget(self, name: str) -> None:
        """The next `get` reads the secret from the store."""
        with self._lock:
            self._values.pop(name, None)

    def forget_all(self) -> None:
        """Every secret is read from the store on its next `get` (and kept for a whole `ttl` from then)."""
        with self._lock:
            self._values.clear()


SecretStoreFactory = Callable[[], SecretStore]
