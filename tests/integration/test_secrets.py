"""Secret stores: env for local work; Key Vault through the real SDK against a loopback HTTPS stub."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dev.host.serving import ServerThread
from ops.__main__ import main as ops
from shared.core.errors import InvalidInput, NotFound, UpstreamError
from shared.secrets import CachedSecretStore
from shared.secrets.env import EnvSecretStore
from shared.secrets.keyring import hmac_key
from shared.secrets.keyvault import KeyVaultSecretStore
from tests.support.clock import FakeClock
from tests.support.credentials import StaticCredential
from tests.support.keyvault_stub import KeyVaultStub
from tests.support.tls import self_signed_loopback, server_context


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_loopback(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def vault(tls: tuple[Path, Path]) -> Iterator[tuple[KeyVaultStub, ServerThread]]:
    stub = KeyVaultStub(token=secrets.token_urlsafe(16))
    with ServerThread(stub.application(), ssl_context=server_context(*tls)) as server:
        yield stub, server


def connect(server: ServerThread, credential: StaticCredential, tls: tuple[Path, Path]) -> KeyVaultSecretStore:
    # The stub challenges with the real resource (vault.azure.net), which is not our loopback host.
    return KeyVaultSecretStore.connect(
        server.url, credential, connection_verify=str(tls[0]), verify_challenge_resource=False
    )


def test_keyvault_reads_and_writes_secrets_with_a_bearer_token(
    vault: tuple[KeyVaultStub, ServerThread], tls: tuple[Path, Path]
) -> None:
    stub, server = vault
    credential = StaticCredential(stub.token)
    store = connect(server, credential, tls)
    store.set("join-link-key", "v1")
    assert store.get("join-link-key") == "v1"
    assert credential.scopes == ["https://vault.azure.net/.default"]
    # The first request went without a token and was challenged; every later one carried it.
    assert stub.requests[0][2] is False
    assert all(has_token for _, _, has_token in stub.requests[1:])


def test_the_rotation_command_moves_the_current_key_to_previous_in_key_vault(
    vault: tuple[KeyVaultStub, ServerThread], tls: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    stub, server = vault
    store = connect(server, StaticCredential(stub.token), tls)
    store.set("join-link-key", "the first key")
    store.set("opt-out-key", "the opt-out key")
    for _ in range(2):
        assert (
            ops(
                ["rotate-join-link-key", "--vault", server.url],
                vault=lambda url: connect(server, StaticCredential(stub.token), tls),
            )
            == 0
        )
    assert stub.secrets["join-link-key-previous"][0] == "the first key"
    previous, current = stub.secrets["join-link-key-previous"][-1], stub.secrets["join-link-key"][-1]
    assert len({previous, current, "the first key"}) == 3 and len(current) >= 64
    assert stub.secrets["opt-out-key"] == ["the opt-out key"]  # never rotated
    assert hmac_key(current).kid in capsys.readouterr().out


def test_keyvault_missing_secret_is_not_found(vault: tuple[KeyVaultStub, ServerThread], tls: tuple[Path, Path]) -> None:
    stub, server = vault
    with pytest.raises(NotFound, match="does not exist in Key Vault"):
        connect(server, StaticCredential(stub.token), tls).get("nope")


def test_keyvault_wrong_token_is_refused(vault: tuple[KeyVaultStub, ServerThread], tls: tuple[Path, Path]) -> None:
    stub, server = vault
    stub.secrets["x"] = ["s3cr3t-value"]
    with pytest.raises(UpstreamError, match="HTTP 401") as raised:
        connect(server, StaticCredential("wrong"), tls).get("x")
    assert "s3cr3t-value" not in str(raised.value)


def test_keyvault_client_refuses_plain_http() -> None:
    with pytest.raises(UpstreamError, match="non-https"):
        KeyVaultSecretStore.connect("http://127.0.0.1:1", StaticCredential("t")).get("x")


def test_secret_names_are_checked_before_any_request() -> None:
    with pytest.raises(InvalidInput, match="letters, digits or dashes"):
        EnvSecretStore({}).get("bad name!")


def test_env_store_reads_secret_variables() -> None:
    environ = {"SECRET_JOIN_LINK_KEY": "abc"}
    store = EnvSecretStore(environ)
    assert store.get("join-link-key") == "abc"
    with pytest.raises(NotFound, match="SECRET_OTHER"):
        store.get("other")


def test_cache_serves_within_ttl_and_rereads_after_it() -> None:
    environ = {"SECRET_K": "one"}
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    store = CachedSecretStore(EnvSecretStore(environ), timedelta(minutes=5), clock)
    assert store.get("k") == "one"
    environ["SECRET_K"] = "two"  # rotated behind our back
    assert store.get("k") == "one"
    clock.advance(minutes=6)
    assert store.get("k") == "two"
    store.set("k", "three")  # our own write is seen at once
    assert store.get("k") == "three"
