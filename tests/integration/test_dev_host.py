"""The dev host serves HTTP triggers, fires timers and pumps queues with the Functions host's semantics."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from azure.core.credentials import TokenCredential
from azure.storage.queue import QueueClient
from pydantic import BaseModel

from dev.host.azurite import Azurite
from dev.host.host import DevHost, HostConfig, HostError, HostKeys
from dev.host.queues import QueueOptions
from dev.host.serving import ServerThread
from shared.core.ratelimit import TokenBucket
from shared.storage.accounts import StorageAccount
from shared.storage.queues import QueueSender
from tests.support.clock import FakeClock
from tests.support.sample_app import Recorder, build_app

KEYS = HostKeys(function_keys=("function-key-1",), master_key="master-key-1")
START = datetime(2026, 3, 1, 10, 0, 30, tzinfo=UTC)


@dataclass
class Running:
    host: DevHost
    server: ServerThread
    recorder: Recorder
    clock: FakeClock
    connection_string: str
    queue: str


@pytest.fixture
def running(azurite: Azurite, tmp_path: Path) -> Iterator[Running]:
    (tmp_path / "index.html").write_text("<h1>portal</h1>")
    (tmp_path / "app.js").write_text("export {}")
    recorder = Recorder()
    clock = FakeClock(START)
    queue = "work-" + secrets.token_hex(4)
    connection_string = azurite.connection_string("connectorapp")
    host = DevHost(
        build_app(recorder),
        keys=KEYS,
        environ={"AzureWebJobsStorage": connection_string, "WORK_QUEUE": queue},
        config=HostConfig(queues=QueueOptions(max_dequeue_count=3, visibility_timeout=0)),
        web_dir=tmp_path,
        clock=clock,
    )
    with ServerThread(host.web_application()) as server:
        yield Running(host, server, recorder, clock, connection_string, queue)
    host.close()


def call(
    url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_route_parameters_query_headers_and_async_functions(running: Running) -> None:
    status, headers, body = call(f"{running.server.url}/api/items/42?x=1&y=two", headers={"X-Test": "hello"})
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    data = json.loads(body)
    assert data["id"] == "42"
    assert data["query"] == {"x": "1", "y": "two"}
    assert data["header"] == "hello"
    assert data["url"].endswith("/api/items/42?x=1&y=two")


def test_methods_select_the_function_and_bodies_reach_sync_functions(running: Running) -> None:
    status, _, body = call(f"{running.server.url}/api/items/7", method="PUT", body=b"payload")
    assert (status, json.loads(body)) == (201, {"method": "PUT", "body": "payload"})
    assert call(f"{running.server.url}/api/items/7", method="DELETE")[0] == 404


def test_literal_routes_win_and_constraints_are_enforced(running: Running) -> None:
    assert call(f"{running.server.url}/api/items/new")[2] == b"form"
    assert call(f"{running.server.url}/api/items/abc")[0] == 404
    assert call(f"{running.server.url}/api/nothing-here")[0] == 404


def test_overlapping_routes_are_tried_by_function_name_as_the_functions_host_does(running: Running) -> None:
    assert call(f"{running.server.url}/api/shadow/exact")[2] == b"any"  # not the more specific route


def test_catch_all_route(running: Running) -> None:
    assert call(f"{running.server.url}/api/files/a/b%20c/d.txt")[2] == b"a/b c/d.txt"


def test_function_level_needs_a_key(running: Running) -> None:
    url = f"{running.server.url}/api/secure"
    assert call(url)[0] == 401
    assert call(url + "?code=wrong")[0] == 401
    assert call(url + "?code=function-key-1")[2] == b"function level ok"
    assert call(url, headers={"x-functions-key": "function-key-1"})[0] == 200
    assert call(url, headers={"x-functions-key": "master-key-1"})[0] == 200


def test_admin_level_needs_the_master_key(running: Running) -> None:
    url = f"{running.server.url}/api/admin/ops"
    assert call(url, headers={"x-functions-key": "function-key-1"})[0] == 401
    assert call(url, headers={"x-functions-key": "master-key-1"})[2] == b"admin level ok"


def test_unhandled_exception_is_a_bare_500(running: Running) -> None:
    status, _, body = call(f"{running.server.url}/api/boom")
    assert status == 500
    assert b"internal detail" not in body


def test_context_parameter_is_supplied(running: Running) -> None:
    assert call(f"{running.server.url}/api/context")[2] == b"with_context"


def test_web_directory_is_served_at_the_root(running: Running) -> None:
    assert call(f"{running.server.url}/")[2] == b"<h1>portal</h1>"
    status, headers, _ = call(f"{running.server.url}/app.js")
    assert status == 200 and "javascript" in headers["Content-Type"]
    assert call(f"{running.server.url}/settings/endpoints")[2] == b"<h1>portal</h1>"  # SPA route
    assert call(f"{running.server.url}/missing.css")[0] == 404
    assert call(f"{running.server.url}/..%2F..%2Fetc%2Fpasswd")[0] == 404


def test_timer_fires_on_schedule_with_the_injected_clock(running: Running) -> None:
    timers = running.host.timers
    assert asyncio.run(timers.run_due()) == []  # 10:00:30: next is 10:01:00
    running.clock.set(START.replace(second=59))
    assert asyncio.run(timers.run_due()) == []
    running.clock.set(START.replace(minute=1, second=0))
    fired = asyncio.run(timers.run_due())
    assert [(f.name, f.scheduled_for.minute, f.past_due) for f in fired] == [("every_minute", 1, False)]
    assert asyncio.run(timers.run_due()) == []  # once per occurrence
    # The host was down for four minutes: one catch-up call, marked past due, then back on schedule.
    running.clock.set(START.replace(minute=5, second=30))
    fired = asyncio.run(timers.run_due())
    assert [(f.scheduled_for.minute, f.past_due) for f in fired] == [(2, True)]
    running.clock.set(START.replace(minute=6, second=0))
    assert [f.past_due for f in asyncio.run(timers.run_due())] == [False]
    assert running.recorder.timer_calls == [False, True, False]


def no_credential() -> TokenCredential:
    raise AssertionError("Azurite connection strings need no credential")


class Work(BaseModel):
    fail: bool = False
    n: int = 0


def test_queue_messages_are_base64_decoded_and_deleted_after_success(running: Running) -> None:
    sender = QueueSender(StorageAccount("app", running.connection_string, no_credential))
    sender.send(running.queue, Work(n=1))
    assert running.server.run(running.host.queues.run_once()) == 1
    assert running.recorder.queue_calls == [(b'{"fail":false,"n":1}', 1)]
    assert running.server.run(running.host.queues.run_once()) == 0


def test_failing_message_is_retried_then_moved_to_poison(running: Running) -> None:
    sender = QueueSender(StorageAccount("app", running.connection_string, no_credential))
    sender.send(running.queue, Work(fail=True))
    for _ in range(3):
        running.server.run(running.host.queues.run_once())
    assert [count for _, count in running.recorder.queue_calls] == [1, 2, 3]
    assert running.server.run(running.host.queues.run_once()) == 0
    poison = QueueClient.from_connection_string(running.connection_string, running.queue + "-poison")
    moved = list(poison.receive_messages())
    assert len(moved) == 1
    assert base64.b64decode(moved[0].content) == b'{"fail":true,"n":0}'


def test_message_that_is_not_base64_goes_straight_to_poison(running: Running) -> None:
    raw = QueueClient.from_connection_string(running.connection_string, running.queue)
    running.server.run(running.host.queues.run_once())  # creates the queue
    raw.send_message("{not base64!}")
    running.server.run(running.host.queues.run_once())
    assert running.recorder.queue_calls == []
    poison = QueueClient.from_connection_string(running.connection_string, running.queue + "-poison")
    assert [m.content for m in poison.receive_messages()] == ["{not base64!}"]


def test_unsupported_bindings_are_refused_at_start(azurite: Azurite) -> None:
    import azure.functions as func

    app = func.FunctionApp()

    @app.route(route="x")
    @app.queue_output(arg_name="out", queue_name="q", connection="AzureWebJobsStorage")
    def with_output(req: func.HttpRequest, out: func.Out[str]) -> func.HttpResponse:
        return func.HttpResponse("")

    with pytest.raises(HostError, match="no bindings besides the trigger"):
        DevHost(app, keys=KEYS, environ={})


def test_function_retry_policies_are_refused_at_start() -> None:
    """The dev host does not apply `@app.retry` (host.json's queue retries are what it reproduces)."""
    import azure.functions as func

    app = func.FunctionApp()

    @app.timer_trigger(arg_name="timer", schedule="0 * * * * *")
    @app.retry(strategy="fixed_delay", max_retry_count="3", delay_interval="00:00:10")
    def with_retry(timer: func.TimerRequest) -> None:
        return None

    with pytest.raises(HostError, match="retry policies"):
        DevHost(app, keys=KEYS, environ={})


def test_urls_over_4_kb_are_refused_as_the_functions_host_refuses_them(running: Running) -> None:
    base = f"{running.server.url}/api/items/1?pad="
    at_limit = base + "a" * (4096 - len(base.removeprefix(running.server.url)))
    assert call(at_limit)[0] == 200
    status, headers, body = call(at_limit + "a")
    assert status == 414 and headers["Content-Type"].startswith("application/problem+json")
    assert json.loads(body)["detail"] == "The address is longer than 4 KB; shorten its path or query."


def test_host_json_settings_are_read() -> None:
    config = HostConfig.load(Path(__file__).parents[2] / "host.json")
    assert config.route_prefix == "api"
    assert config.queues.max_dequeue_count == 5
    assert config.queues.visibility_timeout == 30.0


def test_anonymous_triggers_are_rate_limited_per_source(azurite: Azurite) -> None:
    """Three anonymous requests a minute from one address: the fourth waits (429, Retry-After) before the
    function runs; a function-key call is not counted; time (the injected clock) refills the bucket."""
    recorder = Recorder()
    clock = FakeClock(START)
    connection_string = azurite.connection_string("connectorapp")
    host = DevHost(
        build_app(recorder),
        keys=KEYS,
        environ={"AzureWebJobsStorage": connection_string, "WORK_QUEUE": "w" + secrets.token_hex(4)},
        clock=clock,
        anonymous_limit=TokenBucket(3, burst=3, clock=clock),
    )
    with ServerThread(host.web_application()) as server:
        statuses = [call(f"{server.url}/api/items/new")[0] for _ in range(3)]
        status, headers, body = call(f"{server.url}/api/items/new")
        assert statuses == [200, 200, 200] and status == 429 and int(headers["Retry-After"]) >= 1
        assert json.loads(body)["status"] == 429
        assert call(f"{server.url}/api/secure?code=function-key-1")[0] == 200
        clock.advance(seconds=20)  # one request's worth
        assert call(f"{server.url}/api/items/new")[0] == 200
    host.close()
