"""A clinician's one-time Microsoft 365 sign-in (OpenID Connect authorization code with PKCE, `openid` only) at
their organisation's Entra ID tenant (under ENTRA_AUTHORITY; `make run` points it at the local issuer, which plays
Entra ID's tenant endpoints).

The id_token's `oid` (the clinician's object ID in the tenant) is what links them. The code is redeemed by the
connector's web app registration with its client secret; the id_token is verified against the tenant's published
keys: issuer, audience, lifetime, nonce, and that it is the organisation's tenant that vouches for the clinician.

Where the endpoint gives patients Virtual Appointment links, the sign-in also asks for Graph's delegated
`VirtualAppointment.Read` and `offline_access`: Microsoft serves a meeting's Virtual Appointment join URL only to its
organizer's delegated token, and meetings are often created when no clinician is signing in (a patient's link opened
first). The refresh token is the one thing kept (in Key Vault: shared/visits/delegated_grants.py); access tokens are
used once and dropped."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from shared.core.clock import Clock
from shared.core.errors import Unauthenticated, UpstreamError
from shared.core.jwt_verify import JwksCache, verify
from shared.core.outbound import Outbound

SECRET_NAME = "clinician-sign-in-secret"
"""The app registration's client secret, in the secret store (Key Vault)."""

VIRTUAL_APPOINTMENT_SCOPE = "https://graph.microsoft.com/VirtualAppointment.Read"


class GrantRevoked(Exception):
    """Entra ID no longer honours a refresh token (expired, revoked, consent withdrawn): the clinician must sign in
    again for the connector to act for them."""


@dataclass(frozen=True)
class Redeemed:
    organizer_id: str
    """The clinician's object ID in the tenant."""
    refresh_token: str | None
    """Their delegated Graph grant, when the sign-in asked for one and Entra ID gave it."""


@dataclass(frozen=True)
class DelegatedToken:
    access_token: str
    refresh_token: str | None
    """Entra ID's replacement for the refresh token used (they rotate), if it sent one."""


class SignInFailed(Exception):
    """The sign-in did not vouch for a clinician of the organisation; `reason` is for the logs (no identities)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(kw_only=True, eq=False)
class MicrosoftSignIn:
    client_id: str
    authority: str
    """Entra ID's host (ENTRA_AUTHORITY); a tenant's issuer is {authority}/{tenant}/v2.0."""
    client_secret: Callable[[], str]
    redirect_uri: str
    jwks: JwksCache
    outbound: Outbound
    clock: Clock

    def _issuer(self, tenant_id: str) -> str:
        return f"{self.authority.rstrip('/')}/{tenant_id}/v2.0"

    def _configuration(self, tenant_id: str) -> dict[str, object]:
        return self.jwks.document(f"{self._issuer(tenant_id)}/.well-known/openid-configuration")

    def _endpoint(self, tenant_id: str, name: str) -> str:
        value = self._configuration(tenant_id).get(name)
        if not isinstance(value, str) or not value.startswith(("https://", "http://")):
            raise UpstreamError(f"Microsoft's sign-in configuration names no {name}.")
        return value

    def authorize_url(
        self, tenant_id: str, *, state: str, nonce: str, code_challenge: str, delegated: bool = False
    ) -> str:
        """`delegated`: also ask for Graph's VirtualAppointment.Read, kept with offline_access."""
        parameters = {
            "client_id": self.client_id,
            "response_type": "code",
            "redirect_uri": self.redirect_uri,
            "response_mode": "query",
            "scope": scope(delegated),
            "state": state,
            "nonce": nonce,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        endpoint = self._endpoint(tenant_id, "authorization_endpoint")
        return endpoint + ("&" if "?" in endpoint else "?") + urlencode(parameters)

    def redeem(self, tenant_id: str, *, code: str, verifier: str, nonce: str, delegated: bool = False) -> Redeemed:
        """The signed-in clinician's object ID in `tenant_id`, and their refresh token when `delegated` (as the
        authorize request asked). Raises SignInFailed, or UpstreamError when Microsoft does not answer."""
        form = {
            "client_id": self.client_id,
            "client_secret": self.client_secret(),
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": verifier,
            "scope": scope(delegated),
        }
        response = self.outbound.request(
            "POST", self._endpoint(tenant_id, "token_endpoint"), data=form, headers={"Accept": "application/json"}
        )
        if response.status_code >= 500:
            raise UpstreamError(f"Microsoft's sign-in answered HTTP {response.status_code}.")
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code != 200 or not isinstance(answer, dict):
            error = answer.get("error") if isinstance(answer, dict) else None
            raise SignInFailed(f"token endpoint refused the code (HTTP {response.status_code}, {error!s:.60})")
        id_token = answer.get("id_token")
        if not isinstance(id_token, str):
            raise SignInFailed("token endpoint answered without an id_token")
        issuer = self._issuer(tenant_id)
        jwks_uri = self._configuration(tenant_id).get("jwks_uri")
        try:
            claims = verify(
                id_token,
                jwks=self.jwks,
                jwks_uri=str(jwks_uri or ""),
                issuer=issuer,
                audience=self.client_id,
                clock=self.clock,
                required=("oid", "tid", "nonce"),
            )
        except Unauthenticated as refused:
            raise SignInFailed(f"id_token refused: {refused.detail}") from None
        if claims["nonce"] != nonce:
            raise SignInFailed("id_token nonce is not this sign-in's")
        if str(claims["tid"]).lower() != tenant_id.lower():
            raise SignInFailed("the account belongs to another tenant")
        refresh = answer.get("refresh_token") if delegated else None
        return Redeemed(str(claims["oid"]), refresh if isinstance(refresh, str) and refresh else None)

    def delegated_token(self, tenant_id: str, refresh_token: str) -> DelegatedToken:
        """A Graph access token for VirtualAppointment.Read on the clinician's behalf, from their refresh token.
        Raises GrantRevoked when Entra ID refuses the grant, UpstreamError when it does not answer."""
        form = {
            "client_id": self.client_id,
            "client_secret": self.client_secret(),
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "scope": f"offline_access {VIRTUAL_APPOINTMENT_SCOPE}",
        }
        response = self.outbound.request(
            "POST", self._endpoint(tenant_id, "token_endpoint"), data=form, headers={"Accept": "application/json"}
        )
        if response.status_code >= 500:
            raise UpstreamError(f"Microsoft's sign-in answered HTTP {response.status_code}.")
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise UpstreamError(f"Microsoft's sign-in answered HTTP {response.status_code} without JSON.")
        access = answer.get("access_token")
        if response.status_code != 200 or not isinstance(access, str) or not access:
            if answer.get("error") in ("invalid_grant", "interaction_required", "consent_required"):
                raise GrantRevoked(str(answer["error"]))
            raise UpstreamError(f"Microsoft's sign-in refused the refresh (HTTP {response.status_code}).")
        refresh = answer.get("refresh_token")
        return DelegatedToken(access, refresh if isinstance(refresh, str) and refresh else None)


def scope(delegated: bool) -> str:
    return f"openid offline_access {VIRTUAL_APPOINTMENT_SCOPE}" if delegated else "openid"
