"""The setup tables, all in the app's own account (control plane)."""

from __future__ import annotations

from shared.setup.audit_models import AuditEntry
from shared.setup.models import EndpointUrl, FhirEndpoint, Organisation, SigningCertificate, UrlOwner
from shared.storage.repository import TableRepository


class OrganisationRepository(
    TableRepository[Organisation], table="organisations", keys=("{tenant_id}", "organisation")
):
    """One row per Entra ID tenant."""


class FhirEndpointRepository(TableRepository[FhirEndpoint], table="fhirendpoints", keys=("{tenant_id}", "{id}")):
    """An organisation's FHIR endpoints."""


class EndpointUrlRepository(TableRepository[EndpointUrl], table="endpointurls", keys=("{base_url}", "{tenant_id}")):
    """By base URL, then tenant: unique within an organisation, and the lookup of a launch's `iss`."""


class AuditRepository(TableRepository[AuditEntry], table="auditlog", keys=("{tenant_id}", "{id}")):
    """Row keys sort newest first (see audit.py)."""


class SigningCertificateRepository(
    TableRepository[SigningCertificate], table="certificates", keys=("{tenant_id}", "{environment}")
):
    """The HL7 signing certificate of each environment."""


class UrlOwnerRepository(TableRepository[UrlOwner], table="urlowners", keys=("{base_url}", "owner")):
    """One row per approved base URL: created only when free, so two approvals cannot both win."""
