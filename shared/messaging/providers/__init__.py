"""Sending texts: the SmsSender protocol; `acs` sends through Azure Communication Services, `outbox` keeps them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shared.core.errors import UpstreamError


@dataclass(frozen=True)
class OutgoingSms:
    id: str  # ours
    to: str  # E.164
    sender: str  # E.164
    body: str
    tag: str = ""  # comes back on the delivery report: where the message's record is


class SmsFailed(UpstreamError):
    title = "The text was not sent"


class SmsSender(Protocol):
    def send(self, message: OutgoingSms) -> str:
        """Hand the text to the provider; its message ID. Raises SmsFailed."""
        ...
