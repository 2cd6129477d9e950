"""Calls to an EHR's APIs as the connector itself: a SMART backend-services token (cached), a 401 answered by
one new token, 429 and 5xx (and network failures) retried with backoff that honours `Retry-After`.

An access token only ever goes to the host the organisation's approver signed in to (the approved FHIR base
URL's origin), and is only ever asked of the token endpoint that sign-in validated."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.core.errors import DomainError, Unauthenticated, UpstreamError
from shared.core.outbound import DestinationRefused, Outbound
from shared.core.retry import retry_delay
from shared.setup.models import FhirEndpoint
from shared.smart.backend import BackendServices
from shared.writeback.ehr import VisitContext, WritebackError

if TYPE_CHECKING:
    import httpx


log = logging.getLogger(__name__)


def origin(url: str) -> tuple[str, str]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def check_origin(endpoint: FhirEndpoint, url: str) -> None:
    """Refuse (for good) a writeback to a URL off the approved FHIR server's origin. (Only approved endpoints are
    written back to at all: EhrWriteback.target.)"""
    if origin(url) != origin(endpoint.base_url):
        raise WritebackError(
            "The writeback URL is not on the approved FHIR server's host; nothing was sent.", retryable=False
        )


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, attempt: int, retry_after: str | None) -> float:
        return retry_delay(attempt, retry_after, first=self.base_delay, cap=self.max_delay)


class EhrClient:
    def __init__(
        self,
        outbound: Outbound,
        backend: BackendServices,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._outbound = outbound
        self._backend = backend
        self._policy = policy or RetryPolicy()
        self._sleep = sleep

    def request(
        self,
        visit: VisitContext,
        method: str,
        url: str,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        what: str,
    ) -> httpx.Response:
        """The EHR's answer, when it is a success (2xx) or a 404/409/412 the adapter decides about.

        Raises WritebackError: retryable after the last 429/5xx/network failure, not retryable for the rest.
        """

        check_origin(visit.endpoint, url)
        tenant_id = visit.endpoint.tenant_id
        token_url = visit.endpoint.discovery.token_endpoint  # validated by the approver's sign-in
        client_id = visit.settings.client_id or visit.endpoint.client_id
        scope = visit.settings.scopes
        renewed = False
        attempt = 0
        while True:
            attempt += 1
            try:
                token = self._backend.token(tenant_id, token_url, client_id, scope)
            except Unauthenticated as refused:
                raise WritebackError(f"{what}: {refused.detail}", retryable=False) from None
            except DomainError as failure:  # the token endpoint is down or unreachable
                reason, retry_after = failure.detail, None
            else:
                sent = {
                    "Authorization": f"Bearer {token}",
                    "Accept": "application/fhir+json, application/json",
                    "Epic-Client-ID": client_id,
                    **(headers or {}),
                }
                try:
                    response = self._outbound.request(method, url, json=json, headers=sent)
                except DestinationRefused as refused:
                    raise WritebackError(f"{what}: {refused.detail}", retryable=False) from None
                except UpstreamError as failure:
                    reason, retry_after = f"the EHR could not be reached ({failure.detail})", None
                else:
                    status = response.status_code
                    if status == 401 and not renewed:  # the token was revoked or expired early: one new token
                        self._backend.forget(tenant_id, token_url, client_id, scope)
                        renewed = True
                        attempt -= 1
                        continue
                    if status < 300 or status in (404, 409, 412):
                        return response
                    if status != 429 and status < 500:
                        raise WritebackError(f"{what}: the EHR refused it (HTTP {status}).", retryable=False)
                    reason, retry_after = f"HTTP {status}", response.headers.get("Retry-After")
            if attempt >= self._policy.attempts:
                raise WritebackError(f"{what}: the EHR kept failing ({reason}).", retryable=True)
            delay = self._policy.delay(attempt, retry_after)
            log.warning("EHR writeback %s: %s; retrying in %.1f s (attempt %d)", what, reason, delay, attempt)
            self._sleep(delay)
