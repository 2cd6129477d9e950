"""One repository per table. Control-plane tables live in the app's account; data-plane tables in the
organisation's geography (see dataplane.py)."""

from __future__ import annotations

from shared.models.audit import AuditEntry
from shared.models.ehr_user import EhrUser
from shared.models.endpoint import EndpointUrl, FhirEndpoint
from shared.models.launch import LaunchState
from shared.models.organisation import Organisation
from shared.storage.repository import TableRepository


class OrganisationRepository(TableRepository[Organisation]):
    table_name = "organisations"
    model = Organisation

    def keys(self, item: Organisation) -> tuple[str, str]:
        return item.tenant_id, "organisation"


class EhrUserRepository(TableRepository[EhrUser]):
    table_name = "ehrusers"
    model = EhrUser

    def keys(self, item: EhrUser) -> tuple[str, str]:
        return item.endpoint_id, item.ehr_user_id


class FhirEndpointRepository(TableRepository[FhirEndpoint]):
    table_name = "fhirendpoints"
    model = FhirEndpoint

    def keys(self, item: FhirEndpoint) -> tuple[str, str]:
        return item.tenant_id, item.id


class EndpointUrlRepository(TableRepository[EndpointUrl]):
    table_name = "endpointurls"
    model = EndpointUrl

    def keys(self, item: EndpointUrl) -> tuple[str, str]:
        return item.tenant_id, item.base_url


class LaunchStateRepository(TableRepository[LaunchState]):
    table_name = "launchstates"
    model = LaunchState

    def keys(self, item: LaunchState) -> tuple[str, str]:
        return item.purpose, item.state


class AuditRepository(TableRepository[AuditEntry]):
    """Row keys sort newest first (see services/audit.py)."""

    table_name = "auditlog"
    model = AuditEntry

    def keys(self, item: AuditEntry) -> tuple[str, str]:
        return item.tenant_id, item.id
