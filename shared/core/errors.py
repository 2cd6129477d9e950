"""Domain exceptions. Triggers map these to HTTP answers in one place (functions/_http.py)."""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """Base of every error the connector reports to a caller on purpose."""

    title = "Request failed"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(DomainError):
    """The caller sent something we cannot accept; `fields` names each bad field."""

    title = "Invalid input"

    def __init__(self, detail: str, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.fields: dict[str, str] = dict(fields or {})


class Unprocessable(InvalidInput):
    """Each field is well formed (the API's schema accepts the request), but together or in substance they cannot
    be used: a range whose end is before its start, a certificate that does not parse, a URL that is not a SMART
    endpoint, a continuation token that is not ours. HTTP 422, where a request the schema refuses is a 400."""

    title = "Unprocessable request"


class NotFound(DomainError):
    title = "Not found"


class Conflict(DomainError):
    """The change clashes with the current state (already exists, changed meanwhile, wrong status)."""

    title = "Conflict"


class Unauthenticated(DomainError):
    title = "Sign-in required"


class Forbidden(DomainError):
    title = "Not allowed"


class UpstreamError(DomainError):
    """A service we depend on (EHR, Graph, ACS, storage) failed or answered something unusable."""

    title = "Upstream service failed"


class ConfigurationError(DomainError):
    """The deployment is misconfigured: a setting is missing or invalid. Raised at start."""

    title = "Configuration error"
