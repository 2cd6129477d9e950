"""A loopback stand-in for Entra ID's token-signing side: per-tenant v2.0 OpenID configuration and the shared
JWKS, with key rotation. Tokens it mints carry Entra's v2 access-token claims."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass
class EntraStub:
    url: str = ""
    jwks_requests: int = 0
    configuration_requests: int = 0
    failing: bool = False  # every answer a 500, as during an outage
    keys: dict[str, rsa.RSAPrivateKey] = field(default_factory=dict)
    current: str = ""

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
        return app

    async def _configuration(self, request: web.Request) -> web.Response:
        self.configuration_requests += 1
        if self.failing:
            return web.json_response({"error": "unavailable"}, status=500)
        tenant = request.match_info["tenant"]
        return web.json_response(
            {"issuer": f"{self.url}/{tenant}/v2.0", "jwks_uri": f"{self.url}/common/discovery/v2.0/keys"}
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
