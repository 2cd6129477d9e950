"""Secret stores: Key Vault in Azure, environment variables locally. Secrets are read on demand and cached for
a short while, so a rotated secret takes effect without a restart."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from shared.core.clock import Clock
from shared.core.errors import InvalidInput

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


class CachedSecretStore:
    """Wraps a store so that each secret is fetched at most once per `ttl`."""

    def __init__(self, inner: SecretStore, ttl: timedelta, clock: Clock) -> None:
        self._inner = inner
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._values: dict[str, tuple[str, datetime]] = {}

    def get(self, name: str) -> str:
        now = self._clock.now()
        with self._lock:
            cached = self._values.get(name)
        if cached and cached[1] > now:
            return cached[0]
        value = self._inner.get(name)
        with self._lock:
            self._values[name] = (value, now + self._ttl)
        return value

    def set(self, name: str, value: str) -> None:
        self._inner.set(name, value)
        self.forget(name)

    def forget(self, name: str) -> None:
        """The next `get` reads the secret from the store."""
        with self._lock:
            self._values.pop(name, None)


SecretStoreFactory = Callable[[], SecretStore]
