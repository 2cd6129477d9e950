"""The long-lived clients every feature builds on, made from the settings on first use (never per request):
the managed identity, the storage accounts and their tables and queues, the secret store, outbound HTTP, and the
SMART client pieces (discovery, signing keys of EHRs, OAuth states) that approval and launch share."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

from shared import __version__
from shared.auth.tokens import PortalAuthenticator
from shared.core.clock import Clock, SystemClock
from shared.core.identity import ManagedIdentity
from shared.core.jwt_verify import JwksCache
from shared.core.outbound import Outbound
from shared.core.settings import Settings
from shared.health import HealthService
from shared.secrets import CachedSecretStore, SecretStore
from shared.smart.backend import BackendServices, SigningKeys
from shared.smart.client import SmartClient
from shared.smart.discovery import SmartDiscovery
from shared.smart.states import LaunchStatePurge, LaunchStateRepository, LaunchStates
from shared.storage.accounts import StorageAccounts
from shared.storage.poison import PoisonPurge, PoisonQueueCountRepository
from shared.storage.queues import GeographyQueues, QueueSender
from shared.storage.routing import Tables


@dataclass(eq=False)
class Platform:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    secret_store: SecretStore | None = None
    """The secret store to read through the cache instead of the configured one (tests: a Key Vault stub)."""

    @property
    def public_base(self) -> str:
        return self.settings.public_base

    @property
    def allow_http(self) -> bool:
        """Only local runs talk to http:// EHRs (the sandbox)."""
        return self.settings.deployment.allow_http

    @cached_property
    def credential(self) -> ManagedIdentity:
        return ManagedIdentity(self.settings.deployment.azure_client_id)

    @cached_property
    def storage(self) -> StorageAccounts:
        return StorageAccounts(self.settings.storage, self.credential)

    @cached_property
    def tables(self) -> Tables:
        return Tables(self.storage, self.settings.storage.table_prefix)

    @cached_property
    def queues(self) -> QueueSender:
        return QueueSender(self.storage.app)

    @cached_property
    def geography_queues(self) -> GeographyQueues:
        return GeographyQueues(self.storage)

    @cached_property
    def secrets(self) -> SecretStore:
        settings = self.settings.secrets
        store: SecretStore
        if self.secret_store is not None:
            store = self.secret_store
        elif settings.secrets_provider == "env":
            from shared.secrets.env import EnvSecretStore

            store = EnvSecretStore(os.environ)
        else:
            from shared.secrets.keyvault import KeyVaultSecretStore

            store = KeyVaultSecretStore.connect(settings.key_vault_url or "", self.credential())
        return CachedSecretStore(store, timedelta(seconds=settings.secret_cache_seconds), self.clock)

    @cached_property
    def outbound(self) -> Outbound:
        return Outbound(self.settings.ehr.http_timeout_seconds, allow_private=self.allow_http)

    @property
    def _smart_cache(self) -> timedelta:
        return timedelta(seconds=self.settings.ehr.smart_cache_seconds)

    @cached_property
    def jwks(self) -> JwksCache:
        return JwksCache(self.outbound, self.clock, self._smart_cache)

    @cached_property
    def discovery(self) -> SmartDiscovery:
        return SmartDiscovery(self.outbound, self.clock, self._smart_cache)

    @property
    def jwks_base(self) -> str:
        """Where EHRs read an organisation's public keys (its client assertions): this, then the tenant ID."""
        return f"{self.public_base}/api/.well-known/jwks"

    @cached_property
    def signing_keys(self) -> SigningKeys:
        """Each organisation's keys for client assertions: backend services (writeback) and confidential
        asymmetric SMART clients (launches and approvals at endpoints that use them)."""
        return SigningKeys(self.secrets)

    @cached_property
    def backend_services(self) -> BackendServices:
        return BackendServices(self.outbound, self.signing_keys, self.clock, self.jwks_base)

    @cached_property
    def smart(self) -> SmartClient:
        return SmartClient(self.outbound, self.jwks, self.clock, self.backend_services.assertion)

    @cached_property
    def launch_states(self) -> LaunchStates:
        return LaunchStates(states=self.tables.control(LaunchStateRepository), clock=self.clock)

    @cached_property
    def launch_state_purge(self) -> LaunchStatePurge:
        return LaunchStatePurge(states=self.tables.control(LaunchStateRepository), clock=self.clock)

    @cached_property
    def portal_auth(self) -> PortalAuthenticator:
        sign_in = self.settings.sign_in
        return PortalAuthenticator(
            audience=sign_in.portal_api_audience,
            entra_authority=sign_in.entra_authority,
            environment=self.settings.environment,
            jwks=self.jwks,
            clock=self.clock,
            local_issuer=sign_in.local_issuer_url,
            allowed_tenants=sign_in.allowed_tenants,
        )

    @cached_property
    def health(self) -> HealthService:
        return HealthService(
            probes=self.storage.all(),
            version=__version__,
            environment=self.settings.environment,
            timeout=self.settings.storage.storage_timeout_seconds,
            poison=self.poison_purge.last_counts,
        )

    @cached_property
    def poison_purge(self) -> PoisonPurge:
        return PoisonPurge(
            accounts=self.storage, counts=self.tables.control(PoisonQueueCountRepository), clock=self.clock
        )
