"""Sending texts: the SmsSender protocol; `acs` sends through Azure Communication Services, `outbox` keeps them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shared.errors import UpstreamError


@dataclass(frozen=True)
class OutgoingSms:
    id: str  # ours: the delivery report's tag and the provider's repeatability ID (a retry is not sent twice)
    to: str  # E.164
    sender: str  # E.164
    body: str


class SmsFailed(UpstreamError):
    title = "The text was not sent"


class SmsSender(Protocol):
    def send(self, message: OutgoingSms) -> str:
        """Hand the text to the provider; its message ID. Raises SmsFailed."""
        ...
