"""Sending texts: the SmsSender protocol; `acs` sends through Azure Communication Services, `outbox` keeps them.

A sender raises `SmsThrottled` (try again after `retry_after` seconds; not the text's fault), `SmsRetryable`
(5xx, timeout: try again with backoff) or `SmsFailed` (refused for good)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.core.errors import UpstreamError


@dataclass(frozen=True)
class OutgoingSms:
    id: str  # ours
    to: str  # E.164
    sender: str  # E.164
    body: str
    tag: str = ""  # comes back on the delivery report: where the message's record is
    repeatability_id: str = ""  # the same for every try of one text, so the provider sends it once (a UUID)
    first_sent: datetime | None = None  # when the first try of this text was made


class SmsFailed(UpstreamError):
    title = "The text was not sent"


class SmsRetryable(SmsFailed):
    """The provider did not answer, or answered 5xx: the same text may be tried again."""


class SmsThrottled(SmsFailed):
    """The provider's rate limit (429): try again after `retry_after` seconds."""

    def __init__(self, detail: str, retry_after: float) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class SmsSender(Protocol):
    def send(self, message: OutgoingSms) -> str:
        """Hand the text to the provider; its message ID. Raises SmsFailed (or a subclass)."""
        ...
