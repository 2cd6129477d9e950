"""Per-endpoint writeback settings (portal): which adapter, which backend client, checked against the EHR before they
are saved."""

from __future__ import annotations

from shared.auth.principal import Principal, Role
from shared.core.clock import Clock
from shared.core.errors import InvalidInput, NotFound
from shared.setup.audit import AuditLog
from shared.setup.endpoints import EndpointService
from shared.storage.routing import Tables
from shared.writeback.delivery import EhrWriteback
from shared.writeback.models import (
    WritebackSettings,
    WritebackSettingsPublic,
    WritebackSettingsUpdate,
)
from shared.writeback.tables import WritebackSettingsRepository


class WritebackSetup:
    """The writeback settings of an organisation's endpoints (admins)."""

    def __init__(
        self,
        tables: Tables,
        endpoints: EndpointService,
        writeback: EhrWriteback,
        audit: AuditLog,
        clock: Clock,
        jwks_url: str,
        allow_http: bool,
    ) -> None:
        self._settings = tables.control(WritebackSettingsRepository)
        self._writeback = writeback
        self._endpoints = endpoints
        self._audit = audit
        self._clock = clock
        self._jwks_url = jwks_url
        self._allow_http = allow_http

    def public(self, settings: WritebackSettings) -> WritebackSettingsPublic:
        return WritebackSettingsPublic(
            **settings.model_dump(include=set(WritebackSettingsUpdate.model_fields) | {"endpoint_id", "updated_at"}),
            jwks_url=self._jwks_url,
        )

    def get(self, principal: Principal, endpoint_id: str) -> WritebackSettings:
        principal.require(Role.ADMIN)
        endpoint = self._endpoints.get(principal, endpoint_id)
        found = self._settings.find(principal.tenant_id, endpoint.id)
        if found is None:
            raise NotFound("This endpoint has no writeback settings yet; nothing is written back to its EHR.")
        return found

    def update(self, principal: Principal, endpoint_id: str, update: WritebackSettingsUpdate) -> WritebackSettings:
        principal.require(Role.ADMIN)
        endpoint = self._endpoints.get(principal, endpoint_id)
        if update.epic_path.startswith("http://") and not self._allow_http:
            raise InvalidInput("The web service must be reached over https.", {"epic_path": "use an https URL"})
        settings = WritebackSettings(
            tenant_id=principal.tenant_id,
            endpoint_id=endpoint.id,
            updated_at=self._clock.now(),
            updated_by=principal.user_id,
            **update.model_dump(),
        )
        self._settings.upsert(settings)
        self._writeback.forget(principal.tenant_id, endpoint.id)
        self._audit.by(
            principal,
            action="update",
            entity="writeback_settings",
            entity_id=endpoint.id,
            fields=update.model_fields_set,
        )
        return settings
