from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.runtime import Runtime
from shared.smart.states import LaunchState, LaunchStatePurge, LaunchStateRepository
from tests.support.clock import FakeClock


def state(name: str, expires_at: datetime) -> LaunchState:
    return LaunchState(
        purpose="provider",
        state=name,
        tenant_id="t",
        endpoint_id="e",
        verifier="v",
        nonce="n",
        redirect_uri="http://localhost/api/launch/callback",
        expires_at=expires_at,
    )


def test_expired_launch_states_are_deleted_and_live_ones_kept(runtime: Runtime) -> None:
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    states = runtime.platform.tables.control(LaunchStateRepository)
    states.create(state("expired-one", now - timedelta(minutes=1)))
    states.create(state("expired-two", now - timedelta(days=3)))
    states.create(state("still-live", now + timedelta(minutes=5)))
    assert LaunchStatePurge(states=states, clock=FakeClock(now)).run() == 2
    assert [s.state for s in states.iterate()] == ["still-live"]
