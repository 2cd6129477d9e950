from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from azure.core.credentials import AccessToken


class StaticCredential:
    """A TokenCredential standing in for Entra ID (which has no emulator): one token, and the scopes asked for."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.scopes: list[str] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes += scopes
        return AccessToken(self.token, int((datetime.now(UTC) + timedelta(hours=1)).timestamp()))
