"""The public JWKS URL (`/api/.well-known/jwks/{tenant}`) as a flood of made-up tenants would use it: only an Entra
ID tenant ID (a GUID) is looked up; an unknown one costs its three Key Vault reads once a minute, not on every
request; and the secret store's cache stays bounded however many names it is asked for."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from dev.host.serving import ServerThread
from shared.core.errors import InvalidInput
from shared.runtime import get_runtime
from shared.secrets import CachedSecretStore
from shared.secrets.env import EnvSecretStore
from shared.secrets.keyvault import KeyVaultSecretStore
from shared.smart.backend import SigningKeys
from tests.support.clock import FakeClock
from tests.support.credentials import StaticCredential
from tests.support.keyvault_stub import KeyVaultStub
from tests.support.tls import self_signed_loopback, server_context


@pytest.fixture
def vault(tmp_path: Path, app_host: ServerThread) -> Iterator[tuple[KeyVaultStub, KeyVaultSecretStore]]:
    """The app reads its secrets from a Key Vault stub (the real SDK over HTTPS) for this test."""
    cert, key = self_signed_loopback(tmp_path)
    stub = KeyVaultStub(token=secrets.token_urlsafe(16))
    with ServerThread(stub.application(), ssl_context=server_context(cert, key)) as server:
        store = KeyVaultSecretStore.connect(
            server.url, StaticCredential(stub.token), connection_verify=str(cert), verify_challenge_resource=False
        )
        get_runtime().use(secret_store=store)
        try:
            yield stub, store
        finally:
            get_runtime().use(secret_store=EnvSecretStore(os.environ))


def _reads(stub: KeyVaultStub) -> int:
    return sum(1 for method, _, _ in stub.requests if method == "GET")


def test_an_unknown_tenant_costs_its_reads_once_not_per_request(
    http: httpx.Client, vault: tuple[KeyVaultStub, KeyVaultSecretStore]
) -> None:
    stub, _ = vault
    stranger = str(uuid.uuid4())
    first = http.get(f"/api/.well-known/jwks/{stranger}")
    assert first.status_code == 200 and first.json() == {"keys": []}
    after_first = _reads(stub)
    assert after_first >= 3  # the current, next and previous key (and the SDK's challenge)
    for _ in range(20):
        assert http.get(f"/api/.well-known/jwks/{stranger}").json() == {"keys": []}
    assert _reads(stub) == after_first


@pytest.mark.parametrize("tenant", ["not-a-tenant", "a" * 100, "00000000-0000-0000-0000-00000000000G", "x-next"])
def test_a_tenant_id_of_the_wrong_shape_reads_nothing(
    http: httpx.Client, vault: tuple[KeyVaultStub, KeyVaultSecretStore], tenant: str
) -> None:
    stub, _ = vault
    answer = http.get(f"/api/.well-known/jwks/{tenant}")
    assert answer.status_code == 400 and answer.headers["content-type"].startswith("application/problem+json")
    assert "Entra ID tenant ID" in answer.json()["detail"]
    assert _reads(stub) == 0


def test_a_miss_is_read_again_after_a_minute_and_the_cache_is_bounded() -> None:
    environ: dict[str, str] = {}
    reads: list[str] = []

    class Counted(EnvSecretStore):
        def get(self, name: str) -> str:
            reads.append(name)
            return super().get(name)

    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    keys = SigningKeys(CachedSecretStore(Counted(environ), timedelta(minutes=5), clock, max_entries=6))
    tenant = str(uuid.uuid4())
    keys.jwks(tenant)
    keys.jwks(tenant)
    assert len(reads) == 3
    clock.advance(seconds=59)
    keys.jwks(tenant)
    assert len(reads) == 3
    clock.advance(seconds=2)
    keys.jwks(tenant)
    assert len(reads) == 6  # a key made meanwhile (on another worker) is published within the minute
    for _ in range(5):
        keys.jwks(str(uuid.uuid4()))  # more names than the cache holds: the oldest go
    keys.jwks(tenant)
    assert len(reads) == 6 + 15 + 3
    with pytest.raises(InvalidInput):
        keys.jwks("../../secrets/join-link-key")
