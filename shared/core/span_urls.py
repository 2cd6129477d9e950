"""What a client span may say of the URL it called: the host and path, never a table row's keys, a query's
values, a phone number or whom a path names.

Table row keys hold EHR user IDs and the organisations' sender numbers (`ehrusers(PartitionKey='..',RowKey='..')`),
query strings carry filters, pop receipts and FHIR searches, paths name phone numbers (ACS's
`/phoneNumbers/+1833...`, our portal's), FHIR resources (`/Practitioner/E1001`: an EHR user ID) and Graph's users
and meetings (`/users/{object ID}/onlineMeetings/{meeting ID}`); spans are kept for 90 days where more people can
read them than can read the tables. So the Azure SDKs' spans (through the span class azure-core traces with: its
URL attribute and its name, which azure-core makes of the path) and httpx's (through its instrumentation's request
hook) keep each path segment up to its `(`, replace a segment that is a phone number or follows one that names a
person's or a meeting's collection, and keep each query parameter's name with its value redacted (the API version
excepted: it says nothing of anyone).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

REDACTED = "REDACTED"
URL_ATTRIBUTES = frozenset({"url.full", "http.url"})
_KEPT = frozenset({"api-version", "comp", "restype"})  # the call's kind, never its data
_PHONE = re.compile(r"^\+?[0-9]{7,15}$")
# The segment after one of these names someone (a FHIR resource's ID, a Graph user, a number) or a visit's meeting.
_NAMING = frozenset({"users", "onlinemeetings", "phonenumbers", "phone-numbers", "optouts"})
_ACTIONS = frozenset({"createorget"})  # what a call does, not whom it names
_FHIR_TYPE = re.compile(r"^[A-Z][A-Za-z]+$")  # Practitioner, Patient, Appointment, Encounter, ...


def _segments(path: str) -> str:
    kept: list[str] = []
    previous = ""
    for part in path.split("/"):
        if "(" in part:
            kept.append(part.split("(", 1)[0] + f"({REDACTED})")
        elif part and (
            _PHONE.match(unquote(part).replace(" ", "+"))
            or (previous.lower() in _NAMING and part.lower() not in _ACTIONS)
            or (_FHIR_TYPE.match(previous) and not part.startswith("$") and not part.startswith("_"))
        ):
            kept.append(REDACTED)
        else:
            kept.append(part)
        previous = part
    return "/".join(kept)


def redact_path(path: str) -> str:
    """A URL's path (what azure-core names its spans) as `redact_url` keeps it."""
    return _segments(path)


def redact_url(url: str) -> str:
    """The URL with row keys and query values replaced by `REDACTED` (user info dropped)."""
    try:
        parts = urlsplit(url)
        netloc = parts.hostname or ""
        if parts.port is not None:
            netloc = f"{netloc}:{parts.port}"
    except ValueError:
        return REDACTED
    segments = _segments(parts.path)
    query = "&".join(
        pair if pair.split("=", 1)[0].lower() in _KEPT else f"{pair.split('=', 1)[0]}={REDACTED}"
        for pair in parts.query.split("&")
        if pair
    )
    return urlunsplit((parts.scheme, netloc, segments, query, ""))


def azure_span_class() -> type[Any]:
    """azure-core's OpenTelemetry span class, with its URL attributes redacted as they are set."""
    from azure.core.tracing.ext.opentelemetry_span import OpenTelemetrySpan

    class RedactedUrlSpan(OpenTelemetrySpan):
        def __init__(self, span: Any = None, name: str = "span", **kwargs: Any) -> None:
            super().__init__(span, name=redact_path(name) if span is None else name, **kwargs)

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
