"""The server-side half of every OAuth round trip with an EHR (approver sign-in, clinician and patient launches):
PKCE verifier, state and nonce, stored until the EHR redirects back and then good exactly once."""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta
from typing import Literal

from shared.clock import Clock
from shared.errors import Conflict, NotFound
from shared.models.launch import LaunchState
from shared.smart.pkce import new_nonce, new_state, new_verifier
from shared.storage.tables import LaunchStateRepository, state_partition

Purpose = Literal["approval", "provider", "patient"]
LIFETIME = timedelta(minutes=10)


class StateRejected(Exception):
    """The state is unknown, already used, of another purpose, or expired."""

    def __init__(self, reason: Literal["unknown", "expired"]) -> None:
        super().__init__(reason)
        self.reason = reason


class LaunchStates:
    def __init__(self, states: LaunchStateRepository, clock: Clock, lifetime: timedelta = LIFETIME) -> None:
        self._states = states
        self._clock = clock
        self._lifetime = lifetime

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
            expires_at=self._clock.now() + self._lifetime,
            record=record or {},
        )
        self._states.create(launch)
        return launch

    def consume(self, state: str, purposes: Collection[Purpose]) -> LaunchState:
        """Delete the state (conditionally on its ETag, so two racing callbacks cannot both win), then check it."""
        try:
            stored = self._states.get_versioned(state_partition(state), state)
            self._states.delete(state_partition(state), state, etag=stored.etag)
        except (NotFound, Conflict):
            raise StateRejected("unknown") from None
        if stored.item.purpose not in purposes:
            raise StateRejected("unknown")
        if stored.item.expires_at <= self._clock.now():
            raise StateRejected("expired")
        return stored.item
