"""The sockets under the outbound HTTP client: a connection goes only to an address the request guard checked
(DNS is asked once, by the guard: a name that answers a public address to the check and 127.0.0.1 to the connect
cannot rebind the call), while TLS keeps the host name for SNI and the certificate check; and every socket step
(connect, TLS handshake, each read and write) gets only what is left of the call's overall deadline, so a server
that drips its status line or headers a byte at a time is cut off like one that drips its body.

httpcore asks this backend for connections (`network_backend` of its connection pool); the call in progress
(its checked addresses and deadline) is per thread, set by `Outbound.request` around each request.
"""

from __future__ import annotations

import threading
import typing
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpcore

if typing.TYPE_CHECKING:
    import ssl


@dataclass(frozen=True)
class _Call:
    deadline: float
    host: str
    addresses: tuple[str, ...]


class GuardedNetwork(httpcore.NetworkBackend):
    def __init__(self, monotonic: Callable[[], float], inner: httpcore.NetworkBackend | None = None) -> None:
        self._monotonic = monotonic
        self._inner = inner or httpcore.SyncBackend()
        self._local = threading.local()

    @contextmanager
    def call(self, *, deadline: float, host: str, addresses: Iterable[str]) -> Iterator[None]:
        """Within: connections to `host` go to `addresses` (the checked ones), and every step ends by `deadline`."""
        previous = getattr(self._local, "call", None)
        self._local.call = _Call(deadline, host.lower(), tuple(addresses))
        try:
            yield
        finally:
            self._local.call = previous

    def remaining(self, timeout: float | None, expired: type[Exception]) -> float | None:
        """What is left of the call's deadline for one step (at most the step's own timeout)."""
        call: _Call | None = getattr(self._local, "call", None)
        if call is None:
            return timeout
        left = call.deadline - self._monotonic()
        if left <= 0:
            raise expired("the call's overall deadline has passed")
        return left if timeout is None else min(timeout, left)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        call: _Call | None = getattr(self._local, "call", None)
        if call is None or host.lower() != call.host or not call.addresses:
            raise httpcore.ConnectError(f"{host} was not checked before connecting")
        failure: Exception = httpcore.ConnectError(f"{host} could not be reached")
        for address in call.addresses:  # the checked addresses only, never a fresh lookup
            try:
                stream = self._inner.connect_tcp(
                    address,
                    port,
                    timeout=self.remaining(timeout, httpcore.ConnectTimeout),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
                continue
            return _DeadlineStream(stream, self)
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not a destination the connector calls")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, network: GuardedNetwork) -> None:
        self._inner = inner
        self._network = network

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._network.remaining(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._network.remaining(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        # server_hostname is the URL's host name (not the pinned address): SNI and the certificate check use it.
        tls = self._inner.start_tls(
            ssl_context, server_hostname, self._network.remaining(timeout, httpcore.ConnectTimeout)
        )
        return _DeadlineStream(tls, self._network)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)
