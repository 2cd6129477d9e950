"""HMAC keys that rotate. The secret `{name}` is the current key and `{name}-previous` the one before it: tokens
are signed with the current key and say which key signed them (a key ID), and verification accepts the current
and the previous key, so a rotation breaks nothing that was signed before it.

The key ID is derived from the key itself (a hash of it), so a rotation is only two secret writes, with no list of
IDs to keep in step. It tells nothing about the key that a token and its HMAC do not already. Each instance caches
secrets for a while; a token whose key ID neither cached key has makes it read both again (at most every
REREAD_AFTER), so an instance that still holds the old current key accepts tokens signed with the new one."""

from __future__ import annotations

import hashlib
import secrets as random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.core.clock import Clock
from shared.core.encoding import b64url, peek, seal, unseal
from shared.core.errors import NotFound
from shared.secrets import CachedSecretStore, SecretStore

PREVIOUS = "-previous"
REREAD_AFTER = timedelta(seconds=10)


@dataclass(frozen=True)
class HmacKey:
    kid: str  # 8 base64url characters
    value: bytes

    @property
    def short_kid(self) -> int:
        """Six bits of the key ID, for tokens that have no room for more (a hint: the HMAC decides)."""
        return self.kid_bytes[0] >> 2

    @property
    def kid_bytes(self) -> bytes:
        return hashlib.sha256(b"key-id|" + self.value).digest()[:6]


def hmac_key(secret: str) -> HmacKey:
    """The HMAC key of a secret's text and its key ID."""
    value = hashlib.sha256(secret.encode()).digest()
    return HmacKey(kid=b64url(hashlib.sha256(b"key-id|" + value).digest()[:6]), value=value)


class KeyRing:
    """The current and previous key of one secret."""

    def __init__(self, secrets: SecretStore, name: str, clock: Clock) -> None:
        self._secrets = secrets
        self._name = name
        self._clock = clock
        self._lock = threading.Lock()
        self._reread_at: datetime | None = None

    def current(self) -> HmacKey:
        """The key that signs (`NotFound` when the secret does not exist)."""
        return hmac_key(self._secrets.get(self._name))

    def previous(self) -> HmacKey | None:
        try:
            return hmac_key(self._secrets.get(self._name + PREVIOUS))
        except NotFound:
            return None

    def verifying(self, matches: Callable[[HmacKey], bool] | None = None) -> list[HmacKey]:
        """The keys that may have signed a token, current first: those `matches` accepts (by the token's key ID),
        or both when the token names none. When neither matches, both are read again from the store."""
        keys = self._keys()
        if matches is None:
            return keys
        found = [key for key in keys if matches(key)]
        if not found and self._may_reread():
            found = [key for key in self._keys(reread=True) if matches(key)]
        return found

    def _keys(self, reread: bool = False) -> list[HmacKey]:
        if reread and isinstance(self._secrets, CachedSecretStore):
            self._secrets.forget(self._name)
            self._secrets.forget(self._name + PREVIOUS)
        keys = [self.current()]
        previous = self.previous()
        if previous is not None and previous != keys[0]:
            keys.append(previous)
        return keys

    def _may_reread(self) -> bool:
        now = self._clock.now()
        with self._lock:
            if self._reread_at is not None and now < self._reread_at:
                return False
            self._reread_at = now + REREAD_AFTER
            return True


@dataclass(frozen=True)
class Rotation:
    previous_kid: str
    current_kid: str


def rotate(secrets: SecretStore, name: str, new_secret: str | None = None) -> Rotation:
    """Moves the current key to `{name}-previous` and writes a new current key. Tokens signed with the key that was
    previous until now stop working. The previous key is written first, so an interrupted rotation leaves both
    secrets holding the current key, which verifies as before; running it again finishes it."""
    current = secrets.get(name)
    new = new_secret or random.token_urlsafe(48)
    if new == current:
        raise ValueError("The new key is the current key.")
    secrets.set(name + PREVIOUS, current)
    secrets.set(name, new)
    return Rotation(previous_kid=hmac_key(current).kid, current_kid=hmac_key(new).kid)


def seal_with(keys: KeyRing, payload: dict[str, Any], *, label: bytes = b"") -> str:
    """`payload` sealed (shared.core.encoding) with the current key, its key ID in it as `k`."""
    key = keys.current()
    return seal({**payload, "k": key.kid}, key.value, label=label)


def unseal_with(keys: KeyRing, token: str, *, label: bytes = b"") -> dict[str, Any] | None:
    """The payload of a token sealed with the current or the previous key (the one its `k` names first; the key
    ID is a hint, the HMAC decides); None for anything else."""
    kid = (peek(token) or {}).get("k")
    named = keys.verifying(None if kid is None else lambda key: key.kid == kid)
    for key in named + [key for key in keys.verifying() if key not in named]:
        payload = unseal(token, key.value, label=label)
        if payload is not None:
            return payload
    return None
