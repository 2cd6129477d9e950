"""What the Graph provider says on the wire, apart from its calls: the Teams browser-join URL, the call-events
subscription resource, Graph's time format, its errors as the SDK maps them, and retry delays."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from shared.core.retry import retry_delay

# Query parameters that open the Teams web client for an anonymous browser join (no app, no account).
BROWSER_JOIN = "anon=true&launchAgent=join_launcher&type=meetup-join&directDl=true&msLaunch=true&suppressPrompt=true"


def browser_join_url(join_web_url: str) -> str:
    return join_web_url + ("&" if "?" in join_web_url else "?") + BROWSER_JOIN


class Transient(Exception):
    """A failure worth another try, after `delay` seconds."""

    def __init__(self, delay: float, reason: str) -> None:
        super().__init__(reason)
        self.delay = delay
        self.reason = reason


def sdk_errors() -> dict[str, Any]:
    """Graph's error answers, as the SDK's request builders map them."""
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError

    return {"XXX": ODataError}


def meeting_events_resource(join_url: str) -> str:
    """The subscription resource: the join URL goes in URL-encoded, as Graph requires."""
    return f"communications/onlineMeetings(joinWebUrl='{quote(join_url, safe='')}')/meetingCallEvents"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def retry_after(headers: Any, attempt: int) -> float:
    value = None
    if headers is not None:
        getter = getattr(headers, "get", None)
        raw = getter("retry-after") or getter("Retry-After") if getter else None
        value = next(iter(raw), None) if isinstance(raw, set | list | tuple) else raw
    return retry_delay(attempt, value, first=2.0, cap=8.0)
