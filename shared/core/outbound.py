"""The worker's one HTTP client for calls to other services (EHR servers, identity providers), created on
first use with explicit timeouts, and the JSON fetch every caller needs."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from shared.core.errors import UpstreamError

if TYPE_CHECKING:
    import httpx


class Outbound:
    def __init__(self, timeout: float, transport: httpx.BaseTransport | None = None) -> None:
        self._timeout = timeout
        self._transport = transport
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                import httpx

                self._client = httpx.Client(
                    timeout=httpx.Timeout(self._timeout),
                    follow_redirects=False,
                    headers={"User-Agent": "ehr-virtual-visits-connector"},
                    transport=self._transport,
                )
            return self._client

    def get_json(self, url: str, headers: Mapping[str, str] | None = None) -> tuple[int, Any]:
        """(status, parsed JSON or None). Network failures raise UpstreamError naming the URL."""
        import httpx

        try:
            response = self.client.get(url, headers={"Accept": "application/json", **(headers or {})})
        except httpx.HTTPError as exc:
            raise UpstreamError(f"{url} could not be reached ({type(exc).__name__}).") from None
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None
