"""What a client span may say of the URL it called: the host and path, never a table row's keys or a query's values.

Table row keys hold EHR user IDs and the organisations' sender numbers (`ehrusers(PartitionKey='..',RowKey='..')`),
and query strings carry filters, pop receipts and FHIR searches; spans are kept for 90 days where more people can
read them than can read the tables. So the Azure SDKs' spans (through the span class azure-core traces with) and
httpx's (through its instrumentation's request hook) keep each path segment up to its `(`, and each query
parameter's name with its value redacted (the API version excepted: it says nothing of anyone).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

REDACTED = "REDACTED"
URL_ATTRIBUTES = frozenset({"url.full", "http.url"})
_KEPT = frozenset({"api-version", "comp", "restype"})  # the call's kind, never its data


def redact_url(url: str) -> str:
    """The URL with row keys and query values replaced by `REDACTED` (user info dropped)."""
    try:
        parts = urlsplit(url)
        netloc = parts.hostname or ""
        if parts.port is not None:
            netloc = f"{netloc}:{parts.port}"
    except ValueError:
        return REDACTED
    segments = [part.split("(", 1)[0] + f"({REDACTED})" if "(" in part else part for part in parts.path.split("/")]
    query = "&".join(
        pair if pair.split("=", 1)[0].lower() in _KEPT else f"{pair.split('=', 1)[0]}={REDACTED}"
        for pair in parts.query.split("&")
        if pair
    )
    return urlunsplit((parts.scheme, netloc, "/".join(segments), query, ""))


def azure_span_class() -> type[Any]:
    """azure-core's OpenTelemetry span class, with its URL attributes redacted as they are set."""
    from azure.core.tracing.ext.opentelemetry_span import OpenTelemetrySpan

    class RedactedUrlSpan(OpenTelemetrySpan):
        def add_attribute(self, key: str, value: str | int) -> None:
            if key in URL_ATTRIBUTES and isinstance(value, str):
                value = redact_url(value)
            super().add_attribute(key, value)

    return RedactedUrlSpan


def httpx_request_hook(span: Any, request: Any) -> None:
    """httpx's instrumentation sets the URL as the span starts; this replaces it before anything is exported."""
    if not span.is_recording():
        return
    url = request.url
    if isinstance(url, tuple):  # the transport's raw form: scheme, host, port, target
        scheme, host, port, target = (p.decode() if isinstance(p, bytes) else p for p in url)
        url = f"{scheme}://{host}{f':{port}' if port else ''}{target}"
    attributes = getattr(span, "attributes", None) or {}
    for key in URL_ATTRIBUTES & set(attributes) or {"url.full"}:
        span.set_attribute(key, redact_url(str(url)))


async def httpx_async_request_hook(span: Any, request: Any) -> None:
    httpx_request_hook(span, request)
