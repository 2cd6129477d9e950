"""FHIR endpoints: create (probing SMART discovery), list, read, update, submit for approval, delete."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from shared.auth.principal import Principal, Role
from shared.core.clock import Clock
from shared.core.errors import Conflict, NotFound, Unprocessable
from shared.setup.audit import AuditLog
from shared.setup.launch_options import LAUNCH_FIELDS, check_launch_options
from shared.setup.models import (
    EndpointStatus,
    EndpointUrl,
    FhirEndpoint,
    FhirEndpointCreate,
    FhirEndpointUpdate,
    Organisation,
)
from shared.setup.tables import EndpointUrlRepository, FhirEndpointRepository, OrganisationRepository
from shared.setup.url_owners import UrlOwners
from shared.smart.backend import SigningKeys
from shared.smart.discovery import SmartDiscovery

# Changing only these leaves an approval in place.
COSMETIC_FIELDS = frozenset({"display_name"}) | LAUNCH_FIELDS


_HOST = re.compile(r"^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,62}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,62}[a-z0-9_])?)*\.?$")
"""A DNS name (letters, digits, hyphens; internationalised names in their xn-- form) or an IPv4 address."""


def normalise_base_url(value: str, *, allow_http: bool) -> str:
    """https (http only locally), no credentials, query or fragment, lower-case host, no trailing slash."""

    def bad(reason: str) -> Unprocessable:
        return Unprocessable(f"The FHIR base URL {reason}.", {"base_url": reason})

    try:
        parts = urlsplit(value.strip())
    except ValueError:  # e.g. an unbalanced [ of an IPv6 address
        raise bad("is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ({"https", "http"} if allow_http else {"https"}):
        raise bad("must start with https://")
    if not parts.hostname:
        raise bad("has no host name")
    if parts.username or parts.password:
        raise bad("must not contain a user name or password")
    if parts.query or parts.fragment or value.strip().endswith(("?", "#")):
        raise bad("must not contain a query (?) or fragment (#)")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    elif not _HOST.match(host):
        raise bad("has an invalid host name (international names in their xn-- form)")
    try:
        port = parts.port
    except ValueError:
        raise bad("has an invalid port") from None
    default_port = {"https": 443, "http": 80}[scheme]
    netloc = host if port in (None, default_port) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), "", ""))


@dataclass(kw_only=True, eq=False)
class EndpointService:
    endpoints: FhirEndpointRepository
    urls: EndpointUrlRepository
    organisations: OrganisationRepository
    discovery: SmartDiscovery
    audit: AuditLog
    clock: Clock
    allow_http: bool
    signing_keys: SigningKeys
    """The organisation's assertion keys: created when an endpoint first uses a confidential asymmetric client."""
    owners: UrlOwners
    """Who holds each FHIR base URL: another organisation's URL is refused when it is added, not at approval."""
    changed: Callable[[str, str], object] = lambda tenant_id, endpoint_id: None
    """Told of every endpoint this service writes (the worker's lookups forget it)."""

    def _organisation(self, principal: Principal) -> Organisation:
        organisation = self.organisations.find(principal.tenant_id, "organisation")
        if organisation is None:
            raise Conflict("Set up your organisation first (name and geography), then add FHIR endpoints.")
        return organisation

    def _audit_change(self, principal: Principal, action: str, endpoint: FhirEndpoint, fields: set[str]) -> None:
        self.audit.by(
            principal,
            action=action,
            entity="fhir_endpoint",
            entity_id=endpoint.id,
            fields=fields,
            subject=endpoint.base_url,
            environment=endpoint.environment,
        )

    def list_endpoints(self, principal: Principal) -> list[FhirEndpoint]:
        principal.require(Role.ADMIN, Role.APPROVER)
        return sorted(self.endpoints.iterate(principal.tenant_id), key=lambda e: e.created_at)

    def get(self, principal: Principal, endpoint_id: str) -> FhirEndpoint:
        principal.require(Role.ADMIN, Role.APPROVER)
        return self.get_versioned(principal, endpoint_id)[0]

    def get_versioned(self, principal: Principal, endpoint_id: str) -> tuple[FhirEndpoint, str]:
        try:
            stored = self.endpoints.get_versioned(principal.tenant_id, endpoint_id)
        except NotFound:
            raise NotFound(f"There is no FHIR endpoint {endpoint_id} in your organisation.") from None
        return stored.item, stored.etag

    def _claim_url(self, principal: Principal, base_url: str, endpoint_id: str) -> None:
        self.owners.check_free_for(principal.tenant_id, base_url)
        try:
            self.urls.create(EndpointUrl(tenant_id=principal.tenant_id, base_url=base_url, endpoint_id=endpoint_id))
        except Conflict:
            raise Conflict(f"{base_url} is already configured in your organisation.") from None

    def create(self, principal: Principal, request: FhirEndpointCreate) -> FhirEndpoint:
        principal.require(Role.ADMIN)
        organisation = self._organisation(principal)
        check_launch_options(request)
        base_url = normalise_base_url(request.base_url, allow_http=self.allow_http)
        discovery = self.discovery.discover(base_url, request.client_id, fresh=True)
        endpoint_id = uuid.uuid4().hex[:16]
        now = self.clock.now()
        endpoint = FhirEndpoint(
            tenant_id=principal.tenant_id,
            id=endpoint_id,
            base_url=base_url,
            environment=request.environment,
            approver=request.approver,
            time_zone=request.time_zone or organisation.time_zone,
            vendor=request.vendor,
            client_id=request.client_id,
            client_type=request.client_type,
            display_name=request.display_name,
            provider_landing=request.provider_landing,
            clinician_sign_in=request.clinician_sign_in,
            virtual_appointment_links=request.virtual_appointment_links,
            patient_locale=(
                request.patient_locale if "patient_locale" in request.model_fields_set else organisation.default_locale
            ),
            discovery=discovery,
            created_at=now,
            created_by=principal.user_id,
            updated_at=now,
            updated_by=principal.user_id,
        )
        if endpoint.client_type == "confidential-asymmetric":
            self.signing_keys.ensure(principal.tenant_id)  # published at once, so the EHR can register it
        self._claim_url(principal, base_url, endpoint_id)
        try:
            self.endpoints.create(endpoint)
        except Exception:
            self.urls.delete(base_url, principal.tenant_id)
            raise
        self._audit_change(principal, "create", endpoint, set(request.model_fields_set) | {"base_url", "status"})
        return endpoint

    def update(self, principal: Principal, endpoint_id: str, request: FhirEndpointUpdate) -> FhirEndpoint:
        principal.require(Role.ADMIN)
        endpoint, etag = self.get_versioned(principal, endpoint_id)
        changes = request.model_dump(exclude_unset=True)
        if "base_url" in changes:
            changes["base_url"] = normalise_base_url(changes["base_url"], allow_http=self.allow_http)
        for optional in ("time_zone", "client_type", "patient_locale", "virtual_appointment_links"):
            if changes.get(optional) is None:
                changes.pop(optional, None)
        changed = {name for name, value in changes.items() if getattr(endpoint, name) != value}
        if not changed:
            return endpoint
        updated = endpoint.model_copy(update=changes)
        check_launch_options(updated)
        client_id = changes.get("client_id", endpoint.client_id)
        if {"base_url", "client_id"} & changed:
            updated.discovery = self.discovery.discover(updated.base_url, client_id, fresh=True)
        if changed - COSMETIC_FIELDS and endpoint.status != EndpointStatus.DRAFT:
            # The approval was for the old configuration: it must be signed in and approved again.
            updated.status = EndpointStatus.PENDING_APPROVAL
            updated.validated_ehr_user = updated.validated_at = None
            updated.decided_by = updated.decided_at = updated.decision_comment = None
            changed.add("status")
        updated.updated_at = self.clock.now()
        updated.updated_by = principal.user_id
        if "client_type" in changed and updated.client_type == "confidential-asymmetric":
            self.signing_keys.ensure(principal.tenant_id)
        if "base_url" in changed:
            self._claim_url(principal, updated.base_url, endpoint_id)
        try:
            self.endpoints.replace(updated, etag)
            self.changed(principal.tenant_id, endpoint_id)
        except Exception:
            if "base_url" in changed:
                self.urls.delete(updated.base_url, principal.tenant_id)
            raise
        if "base_url" in changed:
            self.urls.delete(endpoint.base_url, principal.tenant_id)
        self._audit_change(principal, "update", updated, changed)
        return updated

    def submit(self, principal: Principal, endpoint_id: str) -> FhirEndpoint:
        """Draft -> pending approval: the configuration is complete and the approver can sign in."""
        principal.require(Role.ADMIN)
        endpoint, etag = self.get_versioned(principal, endpoint_id)
        if endpoint.status != EndpointStatus.DRAFT:
            raise Conflict(f"Only a draft can be submitted for approval; this endpoint is {endpoint.status.value}.")
        endpoint = endpoint.model_copy(
            update={
                "status": EndpointStatus.PENDING_APPROVAL,
                "updated_at": self.clock.now(),
                "updated_by": principal.user_id,
            }
        )
        self.endpoints.replace(endpoint, etag)
        self.changed(principal.tenant_id, endpoint_id)
        self._audit_change(principal, "submit", endpoint, {"status"})
        return endpoint

    def delete(self, principal: Principal, endpoint_id: str) -> None:
        principal.require(Role.ADMIN)
        endpoint, etag = self.get_versioned(principal, endpoint_id)
        self.endpoints.delete(principal.tenant_id, endpoint_id, etag=etag)
        self.changed(principal.tenant_id, endpoint_id)
        self.urls.delete(endpoint.base_url, principal.tenant_id)
        self._audit_change(principal, "delete", endpoint, set())

    def release_url(self, principal: Principal, endpoint_id: str) -> FhirEndpoint:
        """An admin of the URL's owner gives it up (audited), so that another organisation can approve it."""
        principal.require(Role.ADMIN)
        endpoint = self.get(principal, endpoint_id)
        if self.owners.release(endpoint):
            self._audit_change(principal, "release_url", endpoint, {"base_url"})
        return endpoint
