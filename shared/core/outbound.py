"""The worker's one HTTP client for calls to other services (EHR servers, identity providers, Graph), created
on first use, and the fetches every caller needs.

Every call is guarded against server-side request forgery: the destination's resolved addresses are checked
before connecting (redirects are never followed), link-local and cloud metadata addresses are refused in every
environment, and outside `ENVIRONMENT=local` only https to public addresses is allowed (no loopback, private,
shared, multicast or reserved ranges). Every answer is capped in size (1 MB unless a caller asks for more) and
every call has an overall deadline, not only a per-read timeout, so a server dripping bytes cannot hold a worker.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from shared.core.errors import UpstreamError

if TYPE_CHECKING:
    import httpx

    from shared.core.guarded_network import GuardedNetwork

MAX_RESPONSE_BYTES = 1024 * 1024
Resolver = Callable[[str, int], list[str]]

# Refused everywhere: link-local (cloud metadata lives at 169.254.169.254 and fd00:ec2::254), and the
# metadata addresses some clouds put elsewhere.
_ALWAYS_REFUSED = (
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("fe80::/10"),
    ipaddress.ip_network("fd00:ec2::254/128"),
    ipaddress.ip_network("100.100.100.200/32"),
    ipaddress.ip_network("0.0.0.0/8"),
)
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_DECODED = {"content-encoding", "content-length", "transfer-encoding"}


def _host(url: str) -> str:
    """The URL's host as the connection pool names it (IDNA-encoded, no IPv6 brackets)."""
    import httpx

    return httpx.URL(url).raw_host.decode("ascii")


class DestinationRefused(UpstreamError):
    """The URL's destination is not one the connector may call from here."""


def resolve(host: str, port: int) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def address_refused(address: str, *, allow_private: bool) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in network for network in _ALWAYS_REFUSED if network.version == ip.version):
        return True
    if ip.is_multicast or ip.is_unspecified:
        return True
    if allow_private:
        return False
    return ip.is_private or ip.is_loopback or ip.is_reserved or ip in _SHARED or not ip.is_global


class Outbound:
    def __init__(
        self,
        timeout: float,
        transport: httpx.BaseTransport | None = None,
        *,
        allow_private: bool = False,
        resolver: Resolver = resolve,
        max_bytes: int = MAX_RESPONSE_BYTES,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """`allow_private` (local runs only): http and loopback or private addresses are allowed."""
        self._timeout = timeout
        self._transport = transport
        self._allow_private = allow_private
        self._resolver = resolver
        self._max_bytes = max_bytes
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None
        self._network: GuardedNetwork | None = None

    @property
    def client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                import httpx

                self._client = httpx.Client(
                    timeout=httpx.Timeout(self._timeout),
                    follow_redirects=False,
                    headers={"User-Agent": "ehr-virtual-visits-connector"},
                    transport=self._transport or self._guarded_transport(),
                    trust_env=False,  # no proxy from the environment: the connection must go where it was checked
                )
            return self._client

    def _guarded_transport(self) -> httpx.HTTPTransport:
        """httpx's transport over sockets that connect only to checked addresses, within the call's deadline."""
        import httpcore
        import httpx

        from shared.core.guarded_network import GuardedNetwork

        self._network = GuardedNetwork(self._monotonic)
        transport = httpx.HTTPTransport()
        pool = transport._pool
        if not isinstance(pool, httpcore.ConnectionPool):  # pragma: no cover - httpx without a proxy makes one
            raise TypeError("httpx's transport has no connection pool")
        pool._network_backend = self._network
        return transport

    def check(self, url: str) -> list[str]:
        """Refuse a destination the connector may not call (before any connection is made); the checked addresses,
        the only ones a connection to it may go to."""
        parts = urlsplit(url)
        refused = DestinationRefused(
            f"{parts.scheme}://{parts.hostname or ''} is not a destination the connector calls."
        )
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise refused
        if parts.scheme == "http" and not self._allow_private:
            raise refused
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = self._resolver(parts.hostname, port)
        except (OSError, UnicodeError):  # UnicodeError: not a name IDNA can encode
            raise UpstreamError(f"{parts.hostname!r} could not be resolved.") from None
        if not addresses or any(address_refused(a, allow_private=self._allow_private) for a in addresses):
            raise refused
        return addresses

    def request(self, method: str, url: str, *, max_bytes: int | None = None, **kwargs: Any) -> httpx.Response:
        """The answer, read whole within the size cap and the overall deadline. Network failures, a refused
        destination, an answer too large or too slow raise UpstreamError."""
        import httpx

        addresses = self.check(url)
        limit = max_bytes or self._max_bytes
        deadline = self._monotonic() + self._timeout
        client = self.client
        pinned = self._network.call(deadline=deadline, host=_host(url), addresses=addresses) if self._network else None
        try:
            with pinned or nullcontext(), client.stream(method, url, **kwargs) as response:
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise UpstreamError(f"{urlsplit(url).hostname} answered more than {limit} bytes.")
                body = bytearray()
                for chunk in response.iter_bytes():  # decoded: the cap holds for compressed answers too
                    body += chunk
                    if len(body) > limit:
                        raise UpstreamError(f"{urlsplit(url).hostname} answered more than {limit} bytes.")
                    if self._monotonic() > deadline:
                        raise UpstreamError(f"{urlsplit(url).hostname} took too long to answer.")
        except httpx.TimeoutException:
            raise UpstreamError(f"{urlsplit(url).hostname} took too long to answer.") from None
        except httpx.HTTPError as exc:
            raise UpstreamError(f"{url} could not be reached ({type(exc).__name__}).") from None
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _DECODED]
        return httpx.Response(response.status_code, headers=headers, content=bytes(body), request=response.request)

    def get_json(self, url: str, headers: Mapping[str, str] | None = None) -> tuple[int, Any]:
        """(status, parsed JSON or None). Failures raise UpstreamError naming the URL."""
        response = self.request("GET", url, headers={"Accept": "application/json", **(headers or {})})
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None
