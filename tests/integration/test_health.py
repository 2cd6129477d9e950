"""GET /api/health through the real function app, served by the dev host."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from dev.host.azurite import free_port
from dev.host.serving import ServerThread
from shared import __version__
from shared.core.settings import Geography, get_settings
from shared.runtime import get_runtime
from shared.storage.poison import PoisonPurge, PoisonQueueCountRepository
from shared.storage.queue_names import SMS_OUTBOUND
from tests.support.clock import FakeClock


def get(url: str) -> tuple[int, str, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.headers["Content-Type"], json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], json.loads(error.read())


def test_health_reports_version_and_every_storage_account(app_host: ServerThread) -> None:
    status, content_type, body = get(f"{app_host.url}/api/health")
    assert status == 200
    assert content_type.startswith("application/json")
    assert body == {
        "status": "healthy",
        "version": __version__,
        "environment": "local",
        "storage": {"app": "reachable", "us": "reachable", "eu": "reachable", "apac": "reachable"},
        "poison_queues": body["poison_queues"],  # other tests' leftovers, counted by the last purge
    }


@pytest.fixture
def apac_unreachable(app_host: ServerThread, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    dead = f"http://127.0.0.1:{free_port()}/connectorapac"
    monkeypatch.setenv(
        "DATA_STORAGE_APAC",
        f"DefaultEndpointsProtocol=http;AccountName=connectorapac;AccountKey=a2V5;TableEndpoint={dead};",
    )
    get_settings.cache_clear()
    get_runtime.cache_clear()
    yield
    get_settings.cache_clear()
    get_runtime.cache_clear()


def test_health_is_503_when_an_account_is_unreachable(app_host: ServerThread, apac_unreachable: None) -> None:
    status, content_type, body = get(f"{app_host.url}/api/health")
    assert status == 503
    assert body["status"] == "unhealthy"
    assert body["storage"] == {"app": "reachable", "us": "reachable", "eu": "reachable", "apac": "unreachable"}
    assert "AccountKey" not in json.dumps(body)


def test_health_needs_no_key_but_other_routes_are_not_open(app_host: ServerThread) -> None:
    assert get(f"{app_host.url}/api/health")[0] == 200
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(f"{app_host.url}/api/no-such-route", timeout=10)
    assert raised.value.code == 404


def test_poison_messages_are_counted_in_health_and_purged_after_a_day(app_host: ServerThread) -> None:
    platform = get_runtime().platform
    clock = FakeClock(datetime.now(UTC))
    purge = PoisonPurge(
        accounts=platform.storage, counts=platform.tables.control(PoisonQueueCountRepository), clock=clock
    )
    platform.storage.for_geography(Geography.EU).queue(f"{SMS_OUTBOUND}-poison").send_message(b"{}")
    assert purge.run()["eu/sms-outbound-poison"] >= 1  # kept for a day, for investigation
    waiting = get(f"{app_host.url}/api/health")[2]["poison_queues"]
    assert isinstance(waiting, dict) and waiting["eu/sms-outbound-poison"] >= 1
    clock.advance(days=1, minutes=1)
    assert purge.run()["eu/sms-outbound-poison"] == 0
    waiting = get(f"{app_host.url}/api/health")[2]["poison_queues"]
    assert isinstance(waiting, dict) and "eu/sms-outbound-poison" not in waiting
