"""A loopback stand-in for Entra ID: per-tenant v2.0 OpenID configuration and the shared JWKS, with key rotation;
tokens it mints carry Entra's v2 access-token claims. Its authorize and token endpoints play a user's sign-in
(OpenID Connect code flow with PKCE, checked as Entra checks it: dev/fakes/oidc.py) for whoever `user` is, as
when the browser already has a Microsoft session; with no `user`, the sign-in is cancelled (access_denied)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from dev.fakes.oidc import AuthorizationCodes, id_token_claims


@dataclass
class EntraStub:
    url: str = ""
    jwks_requests: int = 0
    configuration_requests: int = 0
    failing: bool = False  # every answer a 500, as during an outage
    keys: dict[str, rsa.RSAPrivateKey] = field(default_factory=dict)
    current: str = ""
    codes: AuthorizationCodes = field(default_factory=AuthorizationCodes)
    user: dict[str, str] | None = None
    """Who signs in at the authorize endpoint: their id_token claims (tid, oid, ...)."""
    authorize_requests: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rotate()

    def rotate(self) -> str:
        """Publish a new signing key and sign with it from now on (the old one stays published)."""
        self.current = uuid.uuid4().hex[:12]
        self.keys[self.current] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return self.current

    def application(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._configuration)
        app.router.add_get("/common/discovery/v2.0/keys", self._keys)
        app.router.add_get("/{tenant}/oauth2/v2.0/authorize", self._authorize)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        return app

    async def _authorize(self, request: web.Request) -> web.Response:
        query = {k: str(v) for k, v in request.query.items()}
        self.authorize_requests.append(query)
        refusal = self.codes.refusal(query)
        if refusal:
            return web.Response(text=refusal, status=400)
        if self.user is None:
            back = query["redirect_uri"]
            raise web.HTTPFound(f"{back}?error=access_denied&state={query.get('state', '')}")
        raise web.HTTPFound(self.codes.issue(query, dict(self.user)))

    async def _token(self, request: web.Request) -> web.Response:
        def sign(client_id: str, code: Any) -> str:
            claims = id_token_claims(f"{self.url}/{code.subject['tid']}/v2.0", client_id, code)
            return jwt.encode(claims, self.keys[self.current], algorithm="RS256", headers={"kid": self.current})

        return await self.codes.token(request, sign)

    async def _configuration(self, request: web.Request) -> web.Response:
        self.configuration_requests += 1
        if self.failing:
            return web.json_response({"error": "unavailable"}, status=500)
        tenant = request.match_info["tenant"]
        return web.json_response(
            {
                "issuer": f"{self.url}/{tenant}/v2.0",
                "jwks_uri": f"{self.url}/common/discovery/v2.0/keys",
                "authorization_endpoint": f"{self.url}/{tenant}/oauth2/v2.0/authorize",
                "token_endpoint": f"{self.url}/{tenant}/oauth2/v2.0/token",
            }
        )

    async def _keys(self, request: web.Request) -> web.Response:
        self.jwks_requests += 1
        if self.failing:
            return web.json_response({"error": "unavailable"}, status=500)
        keys = [
            {**jwt.algorithms.RSAAlgorithm.to_jwk(k.public_key(), as_dict=True), "kid": kid, "use": "sig"}
            for kid, k in self.keys.items()
        ]
        return web.json_response({"keys": keys})

    def mint(self, *, tenant_id: str, audience: str, roles: list[str], username: str, **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": f"{self.url}/{tenant_id}/v2.0",
            "aud": audience,
            "tid": tenant_id,
            "oid": str(uuid.uuid4()),
            "preferred_username": username,
            "roles": roles,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "ver": "2.0",
            **overrides,
        }
        return jwt.encode(claims, self.keys[self.current], algorithm="RS256", headers={"kid": self.current})
