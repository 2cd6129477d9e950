"""The SMART authorization-code flow: the authorize request (GET, or a form POST where the EHR advertises
`authorize-post` or the URL would be too long), the token exchange (a public client with PKCE, or a confidential
asymmetric client authenticating with a `private_key_jwt` assertion signed with the organisation's key, per
endpoint), and who signed in: the id_token's `fhirUser` (or `sub`), else a `fhirUser` the token response carries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

from shared.core.clock import Clock
from shared.core.errors import Unauthenticated, UpstreamError
from shared.core.jwt_verify import JwksCache, verify
from shared.core.outbound import Outbound
from shared.smart.discovery import SmartConfiguration
from shared.smart.references import resource_type
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

    def redirect(self, configuration: SmartConfiguration, browser: str = "") -> AuthorizeRedirect:
        """A redirect, or a form the browser posts: when the EHR advertises `authorize-post`, or when the URL
        would be too long to redirect to (an EHR's launch value can be a long JWT)."""
        url = self.url(configuration)
        if configuration.authorize_post or len(url) > MAX_REDIRECT_URL:
            return AuthorizeRedirect(configuration.authorization_endpoint, self.parameters(), self.state, browser)
        return AuthorizeRedirect(url, None, self.state, browser)


MAX_REDIRECT_URL = 2000
ClientType = Literal["public", "confidential-asymmetric"]
Assertions = Callable[[str, str, str], str]
"""(tenant ID, token URL, client ID) -> a signed client assertion (RFC 7523, SMART's asymmetric client auth)."""


@dataclass(frozen=True)
class AuthorizeRedirect:
    """Either a plain redirect, or a form the browser posts to the EHR."""

    url: str
    form: dict[str, str] | None = None
    state: str = ""
    browser: str = ""  # the secret the starting browser keeps in a cookie, to present at the callback


@dataclass(frozen=True)
class ClientIdentity:
    """The connector's client at one endpoint: public (PKCE only), or confidential asymmetric (PKCE and a
    client assertion signed with the organisation's key)."""

    tenant_id: str
    client_id: str
    client_type: ClientType = "public"


@dataclass(frozen=True)
class TokenResponse:
    raw: dict[str, Any]

    @property
    def id_token(self) -> str | None:
        value = self.raw.get("id_token")
        return value if isinstance(value, str) and value else None

    @property
    def scopes(self) -> frozenset[str] | None:
        """The scopes granted, when the EHR says (it may grant fewer than were asked for)."""
        value = self.raw.get("scope")
        return frozenset(value.split()) if isinstance(value, str) else None


@dataclass(frozen=True)
class SignIn:
    tokens: TokenResponse
    user: str | None
    """Who signed in (a FHIR reference or user ID), or None when the EHR did not say."""
    user_type: str | None = None
    """The FHIR resource type the EHR names the user by (`Practitioner`, `Patient`, ...), when it does: the type in
    `fhirUser` (or SMART v1's `profile`) of the id_token, else of a `fhirUser` in the token response."""


class SmartClient:
    def __init__(self, outbound: Outbound, jwks: JwksCache, clock: Clock, assertions: Assertions) -> None:
        self._outbound = outbound
        self._jwks = jwks
        self._clock = clock
        self._assertions = assertions

    def exchange_code(
        self, configuration: SmartConfiguration, *, client: ClientIdentity, code: str, redirect_uri: str, verifier: str
    ) -> TokenResponse:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
        if client.client_type == "confidential-asymmetric":
            form["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            form["client_assertion"] = self._assertions(
                client.tenant_id, configuration.token_endpoint, client.client_id
            )
        else:
            form["client_id"] = client.client_id
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
        issuer = configuration.issuer
        jwks_uri = configuration.jwks_uri
        if not issuer or not jwks_uri:
            # Metadata-only discovery names neither: OpenID Connect discovery at the FHIR base URL does. Its
            # `issuer` is compared exactly, as it is stated (OpenID Connect Discovery 4.3).
            document = self._jwks.document((issuer or base_url).rstrip("/") + "/.well-known/openid-configuration")
            issuer = issuer or str(document.get("issuer") or base_url)
            jwks_uri = jwks_uri or str(document.get("jwks_uri", ""))
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
        self,
        configuration: SmartConfiguration,
        *,
        base_url: str,
        client: ClientIdentity,
        code: str,
        launch: LaunchState,
    ) -> SignIn:
        """Exchange the code (with the launch's PKCE verifier); who signed in comes from the id_token (checked
        against the launch's nonce), else from a `fhirUser` in the token response itself: both come from the EHR
        over TLS in exchange for our PKCE-bound code."""
        tokens = self.exchange_code(
            configuration, client=client, code=code, redirect_uri=launch.redirect_uri, verifier=launch.verifier
        )
        if tokens.id_token:
            claims = self.validate_id_token(
                tokens.id_token, configuration, base_url=base_url, client_id=client.client_id, nonce=launch.nonce
            )
            typed = claims.get("fhirUser") or claims.get("profile") or tokens.raw.get("fhirUser")
            return SignIn(tokens, str(claims.get("fhirUser") or claims["sub"]), resource_type(typed))
        user = tokens.raw.get("fhirUser")
        if isinstance(user, str) and user.strip():
            return SignIn(tokens, user[:500], resource_type(user))
        return SignIn(tokens, None)
