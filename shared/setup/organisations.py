"""Organisations: one per Entra tenant, created by one of its admins."""

from __future__ import annotations

from dataclasses import dataclass

from shared.auth.principal import Principal, Role
from shared.core.clock import Clock
from shared.core.errors import Conflict, NotFound, Unprocessable
from shared.core.settings import Geography
from shared.setup.audit import AuditLog
from shared.setup.models import Organisation, OrganisationCreate
from shared.setup.tables import OrganisationRepository


@dataclass(kw_only=True, eq=False)
class OrganisationService:
    organisations: OrganisationRepository
    audit: AuditLog
    clock: Clock
    geographies: list[Geography]
    sms_countries: tuple[str, ...] = ("US",)
    """The countries the deployment texts patients in (SMS_COUNTRIES)."""

    def create(self, principal: Principal, request: OrganisationCreate) -> Organisation:
        principal.require(Role.ADMIN)
        if request.geography not in self.geographies:
            enabled = ", ".join(g.value for g in self.geographies)
            raise Unprocessable(
                f"This connector stores no data in {request.geography.value}; choose one of {enabled}.",
                {"geography": f"not enabled on this connector (enabled: {enabled})"},
            )
        if request.sms_country not in self.sms_countries:
            allowed = ", ".join(self.sms_countries)
            raise Unprocessable(
                f"This connector does not text patients in {request.sms_country}; it texts in {allowed}. Other "
                "countries are turned on by the deployment's SMS_COUNTRIES setting.",
                {"sms_country": f"not allowed on this connector (allowed: {allowed})"},
            )
        organisation = Organisation(
            tenant_id=principal.tenant_id,
            created_at=self.clock.now(),
            created_by=principal.user_id,
            **request.model_dump(),
        )
        try:
            self.organisations.create(organisation)
        except Conflict:
            raise Conflict("Your organisation is already set up; its geography cannot change.") from None
        self.audit.by(
            principal,
            action="create",
            entity="organisation",
            entity_id=principal.tenant_id,
            fields=request.model_fields_set | {"display_name", "geography"},
        )
        return organisation

    def get(self, principal: Principal) -> Organisation:
        principal.require(Role.ADMIN, Role.APPROVER)
        organisation = self.organisations.find(principal.tenant_id, "organisation")
        if organisation is None:
            raise NotFound("Your organisation is not set up yet; an admin creates it first.")
        return organisation
