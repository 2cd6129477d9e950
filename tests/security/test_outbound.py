"""Outbound calls against hostile servers and names: DNS that rebinds between the check and the connect, and a
server that drips its status line and headers so that no single read ever times out."""

from __future__ import annotations

import contextlib
import itertools
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from shared.core.errors import UpstreamError
from shared.core.outbound import Outbound
from shared.runtime import get_runtime
from tests.conftest import CLIENT_ID
from tests.support.portal import ADMIN_ROLES, APPROVER, Tenant, problem


class Listener:
    """A TCP server on loopback that counts the connections it accepts and answers each with `reply`: a byte at a
    time, `pause` seconds apart (until the test ends), or nothing."""

    def __init__(self, reply: bytes = b"", pause: float = 0.0) -> None:
        self.accepted = 0
        self._accepting = threading.Condition()
        self._reply, self._pause = reply, pause
        self._stop = threading.Event()
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            with self._accepting:
                self.accepted += 1
                self._accepting.notify_all()
            threading.Thread(target=self._drip, args=(connection,), daemon=True).start()

    def accepted_by_now(self, expected: int) -> int:
        """The connections accepted, once `expected` are (or a few seconds have passed): a connection the client
        made and gave up on may be accepted from the backlog after the call returns, on a busy machine."""
        with self._accepting:
            self._accepting.wait_for(lambda: self.accepted >= expected, timeout=10)
            return self.accepted

    def _drip(self, connection: socket.socket) -> None:
        with connection, contextlib.suppress(OSError):  # the client hangs up when it gives up
            connection.recv(65536)
            for byte in itertools.cycle(self._reply) if self._reply else ():
                if self._stop.wait(self._pause):
                    return
                connection.sendall(bytes([byte]))
            self._stop.wait()

    def close(self) -> None:
        self._stop.set()
        self._socket.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    running = Listener()
    yield running
    running.close()


@pytest.fixture
def dripping() -> Iterator[Listener]:
    """Answers "HTTP/1.1 200 OK" and then header bytes forever, one every half second."""
    running = Listener(b"HTTP/1.1 200 OK\r\nX-Drip: " + b"a" * 1000, pause=0.5)
    yield running
    running.close()


def test_a_name_that_rebinds_to_loopback_after_the_check_is_never_connected_to(
    listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attacker's DNS answers a public address to the check, then 127.0.0.1 to every later question: the
    connection goes to the address that was checked (and fails there), never to loopback."""
    real = socket.getaddrinfo
    answers = iter(["20.190.128.1"])

    def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "ehr.attacker.example":
            return real(host, port, *args, **kwargs)
        address = next(answers, "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    outbound = Outbound(1, allow_private=False)
    with pytest.raises(UpstreamError):
        outbound.get_json(f"https://ehr.attacker.example:{listener.port}/.well-known/smart-configuration")
    assert listener.accepted == 0


def test_a_server_dripping_its_headers_is_cut_at_the_overall_deadline(dripping: Listener) -> None:
    """Every read gets a byte in time; the call as a whole does not (the clock moves a second per socket step)."""
    ticks = itertools.count()
    outbound = Outbound(5, allow_private=True, monotonic=lambda: float(next(ticks)))
    with pytest.raises(UpstreamError, match="took too long"):
        outbound.get_json(f"http://127.0.0.1:{dripping.port}/fhir/.well-known/smart-configuration")
    assert dripping.accepted_by_now(1) == 1


def test_the_portal_answers_within_the_deadline_when_an_ehr_drips_its_headers(
    tenant: Tenant, dripping: Listener
) -> None:
    """The attack as reported: an admin adds a FHIR base URL whose server drips its headers. The portal's answer
    comes within HTTP_TIMEOUT_SECONDS plus one second (the client gives up then, failing the test)."""
    deadline = get_runtime().settings.ehr.http_timeout_seconds
    body = {"base_url": f"http://127.0.0.1:{dripping.port}/fhir", "environment": "test", "approver": APPROVER}
    body |= {"client_id": CLIENT_ID, "vendor": "epic"}
    with httpx.Client(base_url=str(tenant.http.base_url), timeout=deadline + 1) as client:
        answer = client.post("/api/portal/endpoints", json=body, headers={"Authorization": f"Bearer {token(tenant)}"})
    assert "could not be reached" in problem(answer, 422)["detail"]
    assert dripping.accepted >= 1


def token(tenant: Tenant) -> str:
    return tenant.token("admin@northclinic.example", ADMIN_ROLES)
