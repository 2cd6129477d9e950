"""The storage clients' HTTP session: a proxy in the environment is honoured (with NO_PROXY), otherwise the
environment is read once, not on every storage call."""

from __future__ import annotations

import pytest

from shared.storage.accounts import storage_transport

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def test_without_a_proxy_setting_storage_calls_do_not_consult_the_environment() -> None:
    session = storage_transport().session
    assert session.trust_env is False
    assert session.get_adapter("https://account.queue.core.windows.net/").poolmanager.connection_pool_kw["maxsize"] > 16


@pytest.mark.parametrize("name", ["HTTPS_PROXY", "https_proxy", "NO_PROXY"])
def test_a_proxy_setting_is_honoured(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "http://proxy.hospital.example:3128")
    assert storage_transport().session.trust_env is True
