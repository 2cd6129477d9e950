"""A FHIR base URL belongs to the first organisation that approved it. Launches for that URL go to that
organisation's endpoint; another organisation gets a clear 409 when it tries to sign in to it or approve it,
instead of silently switching off the first organisation's launches.

The claim is a create-only row, so two approvals at once cannot both win. It lapses when its endpoint is no
longer approved at that URL (deleted, edited, rejected): the next approval takes it over.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.core.clock import Clock
from shared.core.errors import Conflict, NotFound
from shared.setup.models import EndpointStatus, FhirEndpoint, UrlOwner
from shared.setup.tables import FhirEndpointRepository, UrlOwnerRepository


def _taken(base_url: str) -> Conflict:
    return Conflict(
        f"{base_url} is already approved by another organisation; launches from it go there. Ask the EHR's "
        "owner which organisation should use it, or use another FHIR base URL."
    )


@dataclass(kw_only=True, eq=False)
class UrlOwners:
    owners: UrlOwnerRepository
    endpoints: FhirEndpointRepository
    clock: Clock

    def owner(self, base_url: str) -> FhirEndpoint | None:
        """The approved endpoint the URL belongs to, if its claim is still good."""
        claim = self.owners.find(base_url, "owner")
        if claim is None:
            return None
        endpoint = self.endpoints.find(claim.tenant_id, claim.endpoint_id)
        good = endpoint is not None and endpoint.status == EndpointStatus.APPROVED and endpoint.base_url == base_url
        return endpoint if good else None

    def check_free(self, endpoint: FhirEndpoint) -> None:
        """409 when another organisation's approval holds the endpoint's URL."""
        owner = self.owner(endpoint.base_url)
        if owner is not None and owner.tenant_id != endpoint.tenant_id:
            raise _taken(endpoint.base_url)

    def claim(self, endpoint: FhirEndpoint) -> None:
        """Take the URL for the endpoint (being approved); 409 when another organisation holds it."""
        claim = UrlOwner(
            base_url=endpoint.base_url,
            tenant_id=endpoint.tenant_id,
            endpoint_id=endpoint.id,
            approved_at=self.clock.now(),
        )
        for _ in range(3):
            try:
                current = self.owners.get_versioned(endpoint.base_url, "owner")
            except NotFound:
                try:
                    self.owners.create(claim)
                    return
                except Conflict:
                    continue  # another approval claimed it just now: look again
            self.check_free(endpoint)
            try:
                self.owners.replace(claim, current.etag)  # ours already, or lapsed: take it
                return
            except Conflict:
                continue
        raise _taken(endpoint.base_url)
