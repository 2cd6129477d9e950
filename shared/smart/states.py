"""The server-side half of an OAuth round trip (PKCE verifier, state, nonce): kept until the EHR redirects back, used
once, short-lived, and purged once expired. Approvals and launches both use it."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel

from shared.core.clock import Clock
from shared.core.errors import Conflict, NotFound
from shared.smart.pkce import new_nonce, new_state, new_verifier
from shared.storage.repository import TableRepository

Purpose = Literal["approval", "provider", "patient"]
LIFETIME = timedelta(minutes=10)


class LaunchState(BaseModel):
    purpose: Purpose
    state: str
    tenant_id: str
    endpoint_id: str
    user_id: str = ""
    verifier: str
    nonce: str
    redirect_uri: str
    expires_at: datetime
    # The launch URL's visit parameters (sessionId, conferenceId, departmentId): only cross-checked at the callback
    # against what the EHR vouches for (shared/visits/context.py), never trusted.
    record: dict[str, str] = {}


class LaunchStateRepository(TableRepository[LaunchState], table="launchstates", keys=("{state:.2}", "{state}")):
    """States are random: their first two characters (see `state_partition`) spread them over partitions."""


def state_partition(state: str) -> str:
    return state[:2]


class StateRejected(Exception):
    """The state is unknown, already used, of another purpose, or expired."""

    def __init__(self, reason: Literal["unknown", "expired"]) -> None:
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
        record: dict[str, str] | None = None,
    ) -> LaunchState:
        launch = LaunchState(
            purpose=purpose,
            state=new_state(),
            tenant_id=tenant_id,
            endpoint_id=endpoint_id,
            user_id=user_id,
            verifier=new_verifier(),
            nonce=new_nonce(),
            redirect_uri=redirect_uri,
            expires_at=self.clock.now() + self.lifetime,
            record=record or {},
        )
        self.states.create(launch)
        return launch

    def consume(self, state: str, purposes: Collection[Purpose]) -> LaunchState:
        """Delete the state (conditionally on its ETag, so two racing callbacks cannot both win), then check it."""
        try:
            stored = self.states.get_versioned(state_partition(state), state)
            self.states.delete(state_partition(state), state, etag=stored.etag)
        except (NotFound, Conflict):
            raise StateRejected("unknown") from None
        if stored.item.purpose not in purposes:
            raise StateRejected("unknown")
        if stored.item.expires_at <= self.clock.now():
            raise StateRejected("expired")
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
