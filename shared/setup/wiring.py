"""The setup feature's services, built from the platform's clients."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from shared.platform import Platform
from shared.setup.approval import ApprovalService
from shared.setup.audit import AuditLog
from shared.setup.certificates import CertificateService
from shared.setup.endpoints import EndpointService
from shared.setup.integration_records import IntegrationRecordService
from shared.setup.lookups import ControlLookups
from shared.setup.models import FhirEndpoint
from shared.setup.organisations import OrganisationService
from shared.setup.record_models import IntegrationRecord
from shared.setup.tables import (
    AuditRepository,
    EndpointUrlRepository,
    FhirEndpointRepository,
    OrganisationRepository,
    SigningCertificateRepository,
    UrlOwnerRepository,
)
from shared.setup.url_owners import UrlOwners


@dataclass(eq=False)
class SetupServices:
    platform: Platform
    endpoint_changed: Callable[[str, str], object] = lambda tenant_id, endpoint_id: None
    """Told of every endpoint change, after the lookups forget it (higher features forget what they cached)."""
    writeback_record: Callable[[FhirEndpoint], IntegrationRecord | None] = lambda endpoint: None
    """An endpoint's writeback client record, from the writeback feature (above this one)."""

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(
            entries=self.platform.tables.control(AuditRepository),
            clock=self.platform.clock,
            endpoints=self.platform.tables.control(FhirEndpointRepository),
        )

    @cached_property
    def lookups(self) -> ControlLookups:
        return ControlLookups(self.platform.tables, self.platform.clock)

    @cached_property
    def organisations(self) -> OrganisationService:
        return OrganisationService(
            organisations=self.platform.tables.control(OrganisationRepository),
            audit=self.audit,
            clock=self.platform.clock,
            geographies=self.platform.settings.storage.enabled_geographies,
            sms_countries=self.platform.settings.messaging.allowed_sms_countries,
            endpoints=self.platform.tables.control(FhirEndpointRepository),
        )

    @cached_property
    def endpoints(self) -> EndpointService:
        tables = self.platform.tables
        return EndpointService(
            endpoints=tables.control(FhirEndpointRepository),
            urls=tables.control(EndpointUrlRepository),
            organisations=tables.control(OrganisationRepository),
            discovery=self.platform.discovery,
            audit=self.audit,
            clock=self.platform.clock,
            allow_http=self.platform.allow_http,
            signing_keys=self.platform.signing_keys,
            owners=self.url_owners,
            changed=self._forget_endpoint,
        )

    def _forget_endpoint(self, tenant_id: str, endpoint_id: str) -> None:
        self.lookups.forget_endpoint(tenant_id, endpoint_id)
        self.endpoint_changed(tenant_id, endpoint_id)

    @cached_property
    def approval(self) -> ApprovalService:
        return ApprovalService(
            endpoints=self.endpoints,
            endpoint_rows=self.platform.tables.control(FhirEndpointRepository),
            states=self.platform.launch_states,
            discovery=self.platform.discovery,
            smart=self.platform.smart,
            audit=self.audit,
            clock=self.platform.clock,
            redirect_uri=f"{self.platform.public_base}/api/portal/approval/callback",
            owners=self.url_owners,
        )

    @cached_property
    def url_owners(self) -> UrlOwners:
        return UrlOwners(
            owners=self.platform.tables.control(UrlOwnerRepository),
            endpoints=self.platform.tables.control(FhirEndpointRepository),
            clock=self.platform.clock,
        )

    @cached_property
    def integration_records(self) -> IntegrationRecordService:
        return IntegrationRecordService(
            endpoints=self.endpoints, public_base=self.platform.public_base, writeback_record=self.writeback_record
        )

    @cached_property
    def certificates(self) -> CertificateService:
        return CertificateService(
            certificates=self.platform.tables.control(SigningCertificateRepository),
            audit=self.audit,
            clock=self.platform.clock,
        )
