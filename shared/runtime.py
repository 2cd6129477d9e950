"""The per-worker set of long-lived clients, built from the settings on first use (never per request).

Triggers call `get_runtime()` and hand what they need to a service.
"""

from __future__ import annotations

import os
from datetime import timedelta
from functools import cached_property, lru_cache

from shared import __version__
from shared.clock import Clock, SystemClock
from shared.identity import ManagedIdentity
from shared.secrets import CachedSecretStore, SecretStore
from shared.services.health import HealthService
from shared.settings import Settings, get_settings
from shared.storage.accounts import StorageAccounts
from shared.storage.queues import QueueSender
from shared.storage.routing import Tables


class Runtime:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.credential = ManagedIdentity(settings.azure_client_id)

    @cached_property
    def storage(self) -> StorageAccounts:
        return StorageAccounts(self.settings, self.credential)

    @cached_property
    def tables(self) -> Tables:
        return Tables(self.storage, self.settings.table_prefix)

    @cached_property
    def queues(self) -> QueueSender:
        return QueueSender(self.storage.app)

    @cached_property
    def secrets(self) -> SecretStore:
        store: SecretStore
        if self.settings.secrets_provider == "env":
            from shared.secrets.env import EnvSecretStore

            store = EnvSecretStore(os.environ)
        else:
            from shared.secrets.keyvault import KeyVaultSecretStore

            store = KeyVaultSecretStore.connect(self.settings.key_vault_url or "", self.credential())
        return CachedSecretStore(store, timedelta(seconds=self.settings.secret_cache_seconds), self.clock)

    @cached_property
    def health(self) -> HealthService:
        return HealthService(
            self.storage.all(), __version__, self.settings.environment, self.settings.storage_timeout_seconds
        )


@lru_cache(maxsize=1)
def get_runtime() -> Runtime:
    return Runtime(get_settings())
