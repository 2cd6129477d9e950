"""The SMART authorization-code flow: the authorize request, the token exchange, and id_token validation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from shared.core.clock import Clock
from shared.core.errors import Unauthenticated, UpstreamError
from shared.core.jwt_verify import JwksCache, verify
from shared.core.outbound import Outbound
from shared.smart.discovery import SmartConfiguration
from shared.smart.states import LaunchState


@dataclass(frozen=True)
class AuthorizeRequest:
    client_id: str
    redirect_uri: str
    scope: str
    state: str
    aud: str
    code_challenge: str
    nonce: str | None = None
    launch: str | None = None

    def parameters(self) -> dict[str, str]:
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self.scope,
            "state": self.state,
            "aud": self.aud,
            "code_challenge": self.code_challenge,
            "code_challenge_method": "S256",
        }
        if self.nonce:
            params["nonce"] = self.nonce
        if self.launch:
            params["launch"] = self.launch
        return params

    def url(self, configuration: SmartConfiguration) -> str:
        separator = "&" if "?" in configuration.authorization_endpoint else "?"
        return configuration.authorization_endpoint + separator + urlencode(self.parameters())


@dataclass(frozen=True)
class TokenResponse:
    raw: dict[str, Any]

    @property
    def id_token(self) -> str | None:
        value = self.raw.get("id_token")
        return value if isinstance(value, str) else None


class SmartClient:
    def __init__(self, outbound: Outbound, jwks: JwksCache, clock: Clock) -> None:
        self._outbound = outbound
        self._jwks = jwks
        self._clock = clock

    def exchange_code(
        self, configuration: SmartConfiguration, *, client_id: str, code: str, redirect_uri: str, verifier: str
    ) -> TokenResponse:

        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
            "client_id": client_id,
        }
        try:
            response = self._outbound.request(
                "POST", configuration.token_endpoint, data=form, headers={"Accept": "application/json"}
            )
        except UpstreamError:
            raise UpstreamError("The EHR's token endpoint could not be reached.") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict):
            error = body.get("error") if isinstance(body, dict) else None
            raise Unauthenticated(
                f"The EHR refused the sign-in (HTTP {response.status_code}{', ' + str(error) if error else ''}); "
                "start the sign-in again."
            )
        if not body.get("access_token") or str(body.get("token_type", "")).lower() != "bearer":
            raise UpstreamError("The EHR's token response has no bearer access token.")
        return TokenResponse(body)

    def validate_id_token(
        self, id_token: str, configuration: SmartConfiguration, *, base_url: str, client_id: str, nonce: str
    ) -> dict[str, Any]:
        """The id_token's claims, once its signature (the EHR's JWKS), iss, aud, exp and nonce all check out."""
        issuer = configuration.issuer or base_url
        jwks_uri = configuration.jwks_uri
        if not jwks_uri:
            document = self._jwks.document(issuer.rstrip("/") + "/.well-known/openid-configuration")
            jwks_uri = str(document.get("jwks_uri", ""))
        claims = verify(
            id_token,
            jwks=self._jwks,
            jwks_uri=jwks_uri,
            issuer=issuer,
            audience=client_id,
            clock=self._clock,
            required=("sub",),
        )
        if claims.get("nonce") != nonce:
            raise Unauthenticated("The EHR's id_token does not belong to this sign-in (nonce mismatch).")
        audiences = claims.get("aud")
        if isinstance(audiences, list) and len(audiences) > 1 and claims.get("azp") != client_id:
            # OpenID Connect Core 3.1.3.7: with several audiences, the authorized party must be us.
            raise Unauthenticated("The EHR's id_token was issued to another party (azp).")
        return claims

    def sign_in(
        self, configuration: SmartConfiguration, *, base_url: str, client_id: str, code: str, launch: LaunchState
    ) -> tuple[TokenResponse, dict[str, Any]]:
        """Exchange the code (with the launch's PKCE verifier) and validate the id_token against its nonce."""
        tokens = self.exchange_code(
            configuration, client_id=client_id, code=code, redirect_uri=launch.redirect_uri, verifier=launch.verifier
        )
        if not tokens.id_token:
            raise Unauthenticated("The EHR returned no id_token; the client needs the openid and fhirUser scopes.")
        claims = self.validate_id_token(
            tokens.id_token, configuration, base_url=base_url, client_id=client_id, nonce=launch.nonce
        )
        return tokens, claims
