"""Shared fixtures: one Azurite for the run (in memory, free ports), a unique table prefix per test, settings
pointing at Azurite, and the real function app served by the dev host."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from dev.azurite import Azurite
from dev.host import DevHost, HostConfig, HostKeys
from dev.serving import ServerThread
from shared.runtime import Runtime, get_runtime
from shared.settings import Settings, get_settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
FUNCTION_KEY = secrets.token_urlsafe(16)
MASTER_KEY = secrets.token_urlsafe(16)


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    with Azurite() as running:
        yield running


def base_environment(azurite: Azurite, table_prefix: str) -> dict[str, str]:
    return {
        "ENVIRONMENT": "local",
        "AzureWebJobsStorage": azurite.connection_string("connectorapp"),
        "DATA_STORAGE_US": azurite.connection_string("connectorus"),
        "DATA_STORAGE_EU": azurite.connection_string("connectoreu"),
        "DATA_STORAGE_APAC": azurite.connection_string("connectorapac"),
        "TABLE_PREFIX": table_prefix,
        "MEETING_PROVIDER": "local",
        "SMS_PROVIDER": "outbox",
        "SECRETS_PROVIDER": "env",
        "STORAGE_TIMEOUT_SECONDS": "2",
    }


@pytest.fixture
def table_prefix() -> str:
    return "t" + secrets.token_hex(5)


@pytest.fixture
def environment(azurite: Azurite, table_prefix: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The app's settings for this test, in the process environment (as the Functions host provides them)."""
    values = base_environment(azurite, table_prefix)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


@pytest.fixture
def settings(environment: dict[str, str]) -> Settings:
    return load_settings()


@pytest.fixture
def runtime(settings: Settings) -> Runtime:
    return Runtime(settings)


@pytest.fixture(scope="session")
def app_host(azurite: Azurite) -> Iterator[ServerThread]:
    """The real function_app, indexed once, served by the dev host on a free port."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in base_environment(azurite, "t" + secrets.token_hex(5)).items():
            patch.setenv(key, value)
        get_settings.cache_clear()
        get_runtime.cache_clear()
        import function_app

        host = DevHost(
            function_app.app,
            keys=HostKeys((FUNCTION_KEY,), MASTER_KEY),
            environ=os.environ,
            config=HostConfig.load(ROOT / "host.json"),
            web_dir=ROOT / "web",
        )
        with ServerThread(host.web_application()) as server:
            yield server
        host.close()
        get_settings.cache_clear()
        get_runtime.cache_clear()
