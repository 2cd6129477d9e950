"""Organisations and endpoints as the hot paths read them (an HL7 ingest, a text being sent): from a per-worker
cache, each row at most once a minute, so a change (an endpoint suspended, removed) applies within a minute."""

from __future__ import annotations

from datetime import timedelta

from shared.core.clock import Clock
from shared.core.ttl import TtlCache
from shared.setup.models import FhirEndpoint, Organisation, UrlOwner
from shared.setup.tables import FhirEndpointRepository, OrganisationRepository, UrlOwnerRepository
from shared.storage.routing import Tables

LOOKUP_TTL = timedelta(minutes=1)


class ControlLookups:
    def __init__(self, tables: Tables, clock: Clock) -> None:
        self._organisation_rows = tables.control(OrganisationRepository)
        self._endpoint_rows = tables.control(FhirEndpointRepository)
        self._organisations: TtlCache[str, Organisation | None] = TtlCache(clock, LOOKUP_TTL)
        self._endpoints: TtlCache[tuple[str, str], FhirEndpoint | None] = TtlCache(clock, LOOKUP_TTL)
        self._owner_rows = tables.control(UrlOwnerRepository)
        self._owners: TtlCache[str, UrlOwner | None] = TtlCache(clock, LOOKUP_TTL)

    def organisation(self, tenant_id: str) -> Organisation | None:
        return self._organisations.get(tenant_id, lambda: self._organisation_rows.find(tenant_id, "organisation"))

    def endpoint(self, tenant_id: str, endpoint_id: str) -> FhirEndpoint | None:
        key = (tenant_id, endpoint_id)
        return self._endpoints.get(key, lambda: self._endpoint_rows.find(tenant_id, endpoint_id))

    def url_holder(self, base_url: str) -> FhirEndpoint | None:
        """UrlOwners.holder for a launch: the URL's claim and its endpoint, each read at most once a minute. A URL
        with no claim is read again each time, so that an approval takes its launches at once."""
        claim = self._owners.get(base_url, lambda: self._owner_rows.find(base_url, "owner"))
        if claim is None:
            self._owners.forget(base_url)
            return None
        endpoint = self.endpoint(claim.tenant_id, claim.endpoint_id)
        return endpoint if endpoint is not None and endpoint.base_url == base_url else None

    def forget_endpoint(self, tenant_id: str, endpoint_id: str) -> None:
        """This worker changed the endpoint: its next read is fresh (other workers' within the minute)."""
        self._endpoints.forget((tenant_id, endpoint_id))
