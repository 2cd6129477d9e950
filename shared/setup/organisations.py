"""Organisations: one per Entra tenant, created by one of its admins."""

from __future__ import annotations

from dataclasses import dataclass

from shared.auth.principal import Principal, Role
from shared.core.clock import Clock
from shared.core.errors import Conflict, NotFound, Unprocessable
from shared.core.settings import Geography
from shared.setup.audit import AuditLog
from shared.setup.models import Organisation, OrganisationCreate, OrganisationUpdate
from shared.setup.tables import FhirEndpointRepository, OrganisationRepository


@dataclass(kw_only=True, eq=False)
class OrganisationService:
    organisations: OrganisationRepository
    audit: AuditLog
    clock: Clock
    geographies: list[Geography]
    sms_countries: tuple[str, ...] = ("US",)
    """The countries the deployment texts patients in (SMS_COUNTRIES)."""
    endpoints: FhirEndpointRepository | None = None
    """Whether data exists: once an endpoint does, the geography stays where its data is."""

    def create(self, principal: Principal, request: OrganisationCreate) -> Organisation:
        principal.require(Role.ADMIN)
        self._check_geography(request.geography)
        self._check_sms_country(request.sms_country)
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

    def _check_geography(self, geography: Geography) -> None:
        if geography not in self.geographies:
            enabled = ", ".join(g.value for g in self.geographies)
            raise Unprocessable(
                f"This connector stores no data in {geography.value}; choose one of {enabled}.",
                {"geography": f"not enabled on this connector (enabled: {enabled})"},
            )

    def _check_sms_country(self, country: str) -> None:
        if country not in self.sms_countries:
            allowed = ", ".join(self.sms_countries)
            raise Unprocessable(
                f"This connector does not text patients in {country}; it texts in {allowed}. Other "
                "countries are turned on by the deployment's SMS_COUNTRIES setting.",
                {"sms_country": f"not allowed on this connector (allowed: {allowed})"},
            )

    def update(self, principal: Principal, request: OrganisationUpdate) -> Organisation:
        """Admins and approvers (the organisation's EHR analyst) change its settings; the geography only while no
        FHIR endpoint exists, since appointments and visits are stored in it from then on."""
        principal.require(Role.ADMIN, Role.APPROVER)
        versioned = self.organisations.get_versioned(principal.tenant_id, "organisation")
        organisation = versioned.item
        changes = {name: value for name, value in request.model_dump(exclude_none=True).items()}
        changed = {name for name, value in changes.items() if getattr(organisation, name) != value}
        if not changed:
            return organisation
        if "geography" in changed:
            self._check_geography(changes["geography"])
            if self.endpoints is not None and next(iter(self.endpoints.iterate(principal.tenant_id)), None):
                raise Conflict(
                    f"The geography cannot move once FHIR endpoints exist: their data is stored in "
                    f"{organisation.geography.value}. Keep it, or delete every endpoint first."
                )
        if "sms_country" in changed:
            self._check_sms_country(changes["sms_country"])
        updated = organisation.model_copy(update={name: changes[name] for name in changed})
        self.organisations.replace(updated, versioned.etag)
        self.audit.by(principal, action="update", entity="organisation", entity_id=principal.tenant_id, fields=changed)
        return updated

    def get(self, principal: Principal) -> Organisation:
        principal.require(Role.ADMIN, Role.APPROVER)
        organisation = self.organisations.find(principal.tenant_id, "organisation")
        if organisation is None:
            raise NotFound("Your organisation is not set up yet; an admin creates it first.")
        return organisation
