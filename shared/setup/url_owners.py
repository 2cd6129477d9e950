"""A FHIR base URL belongs to the first organisation that approved it. Launches for that URL go to that
organisation's endpoint; another organisation gets a clear 409 when it adds the URL, signs in to it or approves
it, instead of silently switching off the first organisation's launches.

The claim is a create-only row, so two approvals at once cannot both win. It holds while its endpoint is at that
URL, whatever the endpoint's status: an edit that sends it back for approval keeps it (its launches stop until it
is approved again, and nobody else can take the URL meanwhile). It lapses only when the owner deletes the
endpoint or moves it to another URL, or when an admin of the owner releases it (audited).
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.core.clock import Clock
from shared.core.errors import Conflict, NotFound
from shared.setup.models import EndpointStatus, FhirEndpoint, UrlOwner
from shared.setup.tables import FhirEndpointRepository, UrlOwnerRepository


def _taken(base_url: str) -> Conflict:
    return Conflict(
        f"{base_url} belongs to another organisation, which approved it first; launches from it go there. Ask the "
        "EHR's owner which organisation should use it, or use another FHIR base URL."
    )


@dataclass(kw_only=True, eq=False)
class UrlOwners:
    owners: UrlOwnerRepository
    endpoints: FhirEndpointRepository
    clock: Clock

    def holder(self, base_url: str) -> FhirEndpoint | None:
        """The endpoint whose claim on the URL holds (approved once, still at that URL, in any status now)."""
        claim = self.owners.find(base_url, "owner")
        if claim is None:
            return None
        endpoint = self.endpoints.find(claim.tenant_id, claim.endpoint_id)
        return endpoint if endpoint is not None and endpoint.base_url == base_url else None

    def owner(self, base_url: str) -> FhirEndpoint | None:
        """The approved endpoint the URL belongs to, if its claim holds and it is approved now."""
        endpoint = self.holder(base_url)
        return endpoint if endpoint is not None and endpoint.status == EndpointStatus.APPROVED else None

    def check_free(self, endpoint: FhirEndpoint) -> None:
        """409 when another organisation's claim holds the endpoint's URL."""
        self.check_free_for(endpoint.tenant_id, endpoint.base_url)

    def check_free_for(self, tenant_id: str, base_url: str) -> None:
        holder = self.holder(base_url)
        if holder is not None and holder.tenant_id != tenant_id:
            raise _taken(base_url)

    def release(self, endpoint: FhirEndpoint) -> bool:
        """Give up the endpoint's claim on its URL (an admin of the owner, who audits it); False when it held none.
        An approved endpoint takes its URL's launches, so it keeps its claim."""
        if endpoint.status == EndpointStatus.APPROVED:
            raise Conflict(
                "An approved endpoint takes its URL's launches, so it keeps the URL. Edit the endpoint (which sends it "
                "back for approval) or delete it first."
            )
        holder = self.holder(endpoint.base_url)
        if holder is None or (holder.tenant_id, holder.id) != (endpoint.tenant_id, endpoint.id):
            return False
        try:
            current = self.owners.get_versioned(endpoint.base_url, "owner")
            self.owners.delete(endpoint.base_url, "owner", etag=current.etag)
        except (NotFound, Conflict):
            return False
        return True

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
