"""The server-side half of an OAuth round trip (PKCE verifier, state, nonce): kept until the EHR redirects back, used
once, short-lived, and purged once expired. Approvals and launches both use it.

A state is bound to the browser that started it: that browser holds a random secret in a short-lived, HttpOnly,
SameSite=Lax cookie (`binding_cookie`), the state keeps only its hash, and the callback must present it. A
callback URL carried to another browser (login CSRF, a forwarded link) is refused."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel

from shared.core.clock import Clock
from shared.core.errors import Conflict, NotFound
from shared.smart.pkce import new_nonce, new_state, new_verifier
from shared.storage.repository import TableRepository

Purpose = Literal["approval", "provider", "patient", "clinician"]  # clinician: the Microsoft 365 sign-in
LIFETIME = timedelta(minutes=10)


class LaunchState(BaseModel):
    purpose: Purpose
    state: str
    tenant_id: str
    endpoint_id: str
    user_id: str = ""
    user_name: str = ""  # who started it, as their portal token named them: the audit log's "who"
    user_email: str = ""
    verifier: str
    nonce: str
    redirect_uri: str
    expires_at: datetime
    # The launch URL's visit parameters (sessionId, conferenceId, departmentId): only cross-checked at the callback
    # against what the EHR vouches for (shared/visits/context.py), never trusted.
    record: dict[str, str] = {}
    binding: str = ""  # sha256 of the starting browser's secret (its cookie); empty until a browser takes it


class LaunchStateRepository(TableRepository[LaunchState], table="launchstates", keys=("{state:.2}", "{state}")):
    """States are random: their first two characters (see `state_partition`) spread them over partitions."""


def state_partition(state: str) -> str:
    return state[:2]


_STATE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")  # what new_state makes; anything else is not one of ours
BINDING_COOKIE_PREFIX = "oauth_"


def binding_cookie(state: str) -> str:
    """The name of the cookie holding a state's browser secret (one per state, so two tabs do not collide)."""
    return BINDING_COOKIE_PREFIX + hashlib.sha256(state.encode()).hexdigest()[:16]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class StateRejected(Exception):
    """The state is unknown, already used, of another purpose, expired, or started in another browser."""

    def __init__(self, reason: Literal["unknown", "expired", "browser"]) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(kw_only=True, eq=False)
class LaunchStates:
    states: LaunchStateRepository
    clock: Clock
    lifetime: timedelta = LIFETIME

    def begin(
        self,
        purpose: Purpose,
        *,
        tenant_id: str,
        endpoint_id: str,
        redirect_uri: str,
        user_id: str = "",
        user_name: str = "",
        user_email: str = "",
        record: dict[str, str] | None = None,
        browser: str | None = None,
    ) -> LaunchState:
        """A new state; `browser` is the starting browser's secret, when it is known now (a launch)."""
        launch = LaunchState(
            purpose=purpose,
            state=new_state(),
            tenant_id=tenant_id,
            endpoint_id=endpoint_id,
            user_id=user_id,
            user_name=user_name,
            user_email=user_email,
            verifier=new_verifier(),
            nonce=new_nonce(),
            redirect_uri=redirect_uri,
            expires_at=self.clock.now() + self.lifetime,
            record=record or {},
            binding=_digest(browser) if browser else "",
        )
        self.states.create(launch)
        return launch

    @staticmethod
    def new_browser_secret() -> str:
        return secrets.token_urlsafe(32)

    def peek(self, state: str, purposes: Collection[Purpose], browser: str | None) -> LaunchState:
        """The state, unused, when it is current and `browser` holds its secret (it stays for the callback)."""
        if not _STATE.match(state or ""):
            raise StateRejected("unknown")
        stored = self.states.find(state_partition(state), state)
        if stored is None or stored.purpose not in purposes:
            raise StateRejected("unknown")
        if stored.expires_at <= self.clock.now():
            raise StateRejected("expired")
        if not stored.binding or not browser or not secrets.compare_digest(_digest(browser), stored.binding):
            raise StateRejected("browser")
        return stored

    def consume(self, state: str, purposes: Collection[Purpose], browser: str | None) -> LaunchState:
        """Delete the state (conditionally on its ETag, so two racing callbacks cannot both win), then check it
        and the browser's secret."""
        if not _STATE.match(state or ""):
            raise StateRejected("unknown")
        try:
            stored = self.states.get_versioned(state_partition(state), state)
            self.states.delete(state_partition(state), state, etag=stored.etag)
        except (NotFound, Conflict):
            raise StateRejected("unknown") from None
        if stored.item.purpose not in purposes:
            raise StateRejected("unknown")
        if stored.item.expires_at <= self.clock.now():
            raise StateRejected("expired")
        if not stored.item.binding or not browser or not secrets.compare_digest(_digest(browser), stored.item.binding):
            raise StateRejected("browser")
        return stored.item


log = logging.getLogger(__name__)


@dataclass(kw_only=True, eq=False)
class LaunchStatePurge:
    """OAuth states of launches and sign-ins that were never completed are deleted once they have expired."""

    states: LaunchStateRepository
    clock: Clock

    def run(self) -> int:
        expired = list(self.states.iterate(query="expires_at lt @now", parameters={"now": self.clock.now()}))
        for state in expired:
            partition, row = self.states.keys(state)
            self.states.delete(partition, row)
        if expired:
            log.info("Deleted %d expired launch states", len(expired))
        return len(expired)
