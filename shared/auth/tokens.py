"""Portal access tokens: Entra ID v2 tokens of the API's app registration, or (ENVIRONMENT=local only) tokens
of the dev host's local issuer, which carry the same claims."""

from __future__ import annotations

import re
from collections.abc import Mapping

from shared.auth.principal import Principal, Role
from shared.core.clock import Clock
from shared.core.errors import Forbidden, Unauthenticated, UpstreamError
from shared.core.jwt_verify import JwksCache, unverified_claims, verify

TENANT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
"""An Entra ID tenant ID as tokens carry it (`tid`): a GUID in lowercase."""


class PortalAuthenticator:
    """Checks everything it can before any outbound fetch (issuer shape, tenant ID, allowed tenants), so a
    forged token cannot make the connector fetch keys for arbitrary tenants; keys that cannot be fetched are a
    401 for the caller (the token cannot be verified), not a 502."""

    def __init__(
        self,
        *,
        audience: str,
        entra_authority: str,
        environment: str,
        jwks: JwksCache,
        clock: Clock,
        local_issuer: str | None = None,
        allowed_tenants: frozenset[str] = frozenset(),
    ) -> None:
        self._audience = audience
        self._authority = entra_authority.rstrip("/")
        self._environment = environment
        self._jwks = jwks
        self._clock = clock
        self._local_issuer = local_issuer.rstrip("/") if local_issuer else None
        self._allowed_tenants = allowed_tenants

    def authenticate(self, headers: Mapping[str, str]) -> Principal:
        authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("Sign in to the portal: this call needs a bearer access token.")
        token = token.strip()
        _, claims = unverified_claims(token)
        issuer = str(claims.get("iss", "")).rstrip("/")
        tenant = str(claims.get("tid", "")).lower()
        if self._local_issuer and issuer == self._local_issuer:
            if self._environment != "local":
                raise Unauthenticated("Tokens of the local dev issuer are refused outside ENVIRONMENT=local.")
            expected_issuer = self._local_issuer
        elif TENANT_ID.match(tenant) and issuer == f"{self._authority}/{tenant}/v2.0":
            expected_issuer = issuer
            if self._allowed_tenants and tenant not in self._allowed_tenants:  # before fetching anything
                raise Forbidden("Your organisation's tenant is not enabled on this connector; ask its operator.")
        else:
            raise Unauthenticated("The token comes from an issuer we do not trust; sign in with Entra ID.")
        try:
            configuration = self._jwks.document(f"{expected_issuer}/.well-known/openid-configuration")
            verified = verify(
                token,
                jwks=self._jwks,
                jwks_uri=str(configuration.get("jwks_uri", "")),
                issuer=str(claims.get("iss")),
                audience=self._audience,
                clock=self._clock,
                required=("tid", "oid"),
            )
        except UpstreamError:
            raise Unauthenticated("The token's issuer keys could not be read, so it cannot be verified.") from None
        tenant_id = str(verified["tid"]).lower()
        if self._allowed_tenants and tenant_id not in self._allowed_tenants:
            raise Forbidden("Your organisation's tenant is not enabled on this connector; ask its operator.")
        roles = frozenset(Role(r) for r in verified.get("roles", []) if r in {role.value for role in Role})
        username = str(verified.get("preferred_username") or verified.get("upn") or verified.get("email") or "")
        name = str(verified.get("name") or "")[:200]
        return Principal(
            tenant_id=tenant_id, user_id=str(verified["oid"]), username=username.lower(), roles=roles, name=name
        )
