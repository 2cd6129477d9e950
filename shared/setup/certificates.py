"""The EHR's HL7 signing certificates, one per environment (test, prod), uploaded by an admin."""

from __future__ import annotations

from dataclasses import dataclass

from shared.auth.principal import Principal, Role
from shared.core.clock import Clock
from shared.core.errors import InvalidInput, NotFound
from shared.hl7.signature import load_certificate
from shared.setup.audit import AuditLog
from shared.setup.models import Environment, SigningCertificate
from shared.setup.tables import SigningCertificateRepository


@dataclass(kw_only=True, eq=False)
class CertificateService:
    certificates: SigningCertificateRepository
    audit: AuditLog
    clock: Clock

    def upload(self, principal: Principal, environment: str, upload: str) -> SigningCertificate:
        principal.require(Role.ADMIN)
        if environment not in ("test", "prod"):
            raise InvalidInput("The environment must be test or prod.", {"environment": "must be test or prod"})
        now = self.clock.now()
        info = load_certificate(upload.encode(), now)
        certificate = SigningCertificate(
            tenant_id=principal.tenant_id,
            environment=environment,
            der=info.der,
            thumbprint=info.thumbprint,
            subject=info.subject,
            not_after=info.not_after,
            uploaded_at=now,
            uploaded_by=principal.user_id,
        )
        self.certificates.upsert(certificate)
        self.audit.by(
            principal,
            action="upload",
            entity="certificate",
            entity_id=environment,
            fields={"thumbprint", "subject", "not_after"},
        )
        return certificate

    def list_certificates(self, principal: Principal) -> list[SigningCertificate]:
        principal.require(Role.ADMIN, Role.APPROVER)
        return list(self.certificates.iterate(principal.tenant_id))

    def for_environment(self, tenant_id: str, environment: Environment) -> SigningCertificate:
        certificate = self.certificates.find(tenant_id, environment)
        if certificate is None:
            raise NotFound(f"No HL7 signing certificate is uploaded for the {environment} environment.")
        return certificate
