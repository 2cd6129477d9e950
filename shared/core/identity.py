"""The worker's Azure credential: one DefaultAzureCredential (the managed identity in Azure), built on first
use and shared by every client that needs it. Never built for Azurite or the env secret store."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential


CredentialFactory = Callable[[], "TokenCredential"]


class ManagedIdentity:
    def __init__(self, client_id: str | None) -> None:
        self._client_id = client_id
        self._lock = threading.Lock()
        self._credential: TokenCredential | None = None

    def __call__(self) -> TokenCredential:
        with self._lock:
            if self._credential is None:
                from azure.identity import DefaultAzureCredential

                self._credential = DefaultAzureCredential(managed_identity_client_id=self._client_id)
            return self._credential
