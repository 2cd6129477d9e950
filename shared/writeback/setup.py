"""Per-endpoint writeback settings (portal): which adapter, which backend client, checked against the EHR before they
are saved."""

from __future__ import annotations

from dataclasses import dataclass

from shared.auth.principal import Principal, Role
from shared.core.clock import Clock
from shared.core.errors import NotFound, Unprocessable
from shared.core.ttl import TtlCache
from shared.setup.audit import AuditLog
from shared.setup.endpoints import EndpointService
from shared.setup.lookups import LOOKUP_TTL
from shared.setup.models import FhirEndpoint
from shared.setup.record_models import IntegrationRecord, IntegrationValue
from shared.smart.backend import BackendServices, SigningKeys
from shared.storage.routing import Tables
from shared.writeback.delivery import EhrWriteback
from shared.writeback.ehr.client import origin
from shared.writeback.models import (
    WritebackSettings,
    WritebackSettingsPublic,
    WritebackSettingsUpdate,
)
from shared.writeback.tables import WritebackSettingsRepository


@dataclass(kw_only=True, eq=False)
class WritebackSetup:
    """The writeback settings of an organisation's endpoints (admins)."""

    tables: Tables
    endpoints: EndpointService
    writeback: EhrWriteback
    audit: AuditLog
    clock: Clock
    keys: SigningKeys
    backend: BackendServices
    allow_http: bool

    def __post_init__(self) -> None:
        self._settings = self.tables.control(WritebackSettingsRepository)
        self._writes_back: TtlCache[tuple[str, str], bool] = TtlCache(self.clock, LOOKUP_TTL)

    def public(self, settings: WritebackSettings) -> WritebackSettingsPublic:
        return WritebackSettingsPublic(
            **settings.model_dump(include=set(WritebackSettingsUpdate.model_fields) | {"endpoint_id", "updated_at"}),
            jwks_url=self.backend.jwks_url(settings.tenant_id),
        )

    def record(self, endpoint: FhirEndpoint) -> IntegrationRecord | None:
        """The backend-services client the analyst registers for writeback, when the endpoint writes back."""
        settings = self._settings.find(endpoint.tenant_id, endpoint.id)
        if settings is None or settings.adapter == "none":
            return None
        what = {"epic": "the telehealth connection-status web service", "fhir": "AuditEvents and Appointment status"}
        return IntegrationRecord(
            kind="writeback_client",
            title="Writeback client (backend services)",
            description=f"Writes connects and disconnects back to the EHR ({what[settings.adapter]}); no user signs "
            "in. Register it as a backend system with its JWKS URL.",
            values=[
                IntegrationValue(name=name, value=value)
                for name, value in (
                    ("Client ID", settings.client_id or endpoint.client_id),
                    ("Client authentication", "private_key_jwt (confidential asymmetric client)"),
                    ("JWKS URL", self.backend.jwks_url(endpoint.tenant_id)),
                    ("Scopes", settings.scopes or "none (Epic's web services need no scope)"),
                )
            ],
        )

    def writes_back(self, tenant_id: str, endpoint_id: str) -> bool:
        """Whether the endpoint has a writeback adapter (launches then keep the EHR's visit identifiers). Read
        once a minute per worker, on every launch's path; this worker forgets it when the settings change."""

        def load() -> bool:
            settings = self._settings.find(tenant_id, endpoint_id)
            return settings is not None and settings.adapter != "none"

        return self._writes_back.get((tenant_id, endpoint_id), load)

    def get(self, principal: Principal, endpoint_id: str) -> WritebackSettings:
        principal.require(Role.ADMIN)
        endpoint = self.endpoints.get(principal, endpoint_id)
        found = self._settings.find(principal.tenant_id, endpoint.id)
        if found is None:
            raise NotFound("This endpoint has no writeback settings yet; nothing is written back to its EHR.")
        return found

    def update(self, principal: Principal, endpoint_id: str, update: WritebackSettingsUpdate) -> WritebackSettings:
        principal.require(Role.ADMIN)
        endpoint = self.endpoints.get(principal, endpoint_id)
        if update.epic_path.startswith("http://") and not self.allow_http:
            raise Unprocessable("The web service must be reached over https.", {"epic_path": "use an https URL"})
        if "://" in update.epic_path and origin(update.epic_path) != origin(endpoint.base_url):
            raise Unprocessable(
                "The web service must be on the approved FHIR server's host.",
                {"epic_path": f"use a path, or a URL on {origin(endpoint.base_url)[1]}"},
            )
        if update.adapter != "none":
            self.keys.ensure(principal.tenant_id)  # the organisation's own signing key, published at jwks_url
        settings = WritebackSettings(
            tenant_id=principal.tenant_id,
            endpoint_id=endpoint.id,
            updated_at=self.clock.now(),
            updated_by=principal.user_id,
            **update.model_dump(),
        )
        self._settings.upsert(settings)
        self.writeback.forget(principal.tenant_id, endpoint.id)
        self._writes_back.forget((principal.tenant_id, endpoint.id))
        self.audit.by(
            principal,
            action="update",
            entity="writeback_settings",
            entity_id=endpoint.id,
            subject=endpoint.base_url,
            environment=endpoint.environment,
            fields=update.model_fields_set,
        )
        return settings
