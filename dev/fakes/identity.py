"""The local sign-in issuer: mints portal access tokens with the same claims as Entra ID v2 tokens
(`iss`, `aud`, `tid`, `oid`, `preferred_username`, `roles`), signed RS256 with a key generated at start.
The API trusts it only when ENVIRONMENT=local.

- `GET /.well-known/openid-configuration`, `GET /keys`: discovery and the public key.
- `POST /token` (JSON `{tenant_id, user_id, username, roles}`): a token for tests and the portal's local sign-in.
- `GET /`: a sign-in page to pick a user and roles and get a token.
"""

from __future__ import annotations

import html
import time
import uuid
from typing import Any

from aiohttp import web

from dev.fakes.signing import SigningKey

LOCAL_TENANT = "10ca1000-0000-4000-8000-000000000001"
ROLES = ("Connector.Admin", "Connector.Approver")


class LocalIssuer:
    def __init__(self, audience: str, lifetime_seconds: int = 3600) -> None:
        self.audience = audience
        self.lifetime = lifetime_seconds
        self.url = ""
        self._key = SigningKey()

    def mint(
        self,
        *,
        username: str,
        roles: list[str],
        tenant_id: str = LOCAL_TENANT,
        user_id: str | None = None,
        audience: str | None = None,
        expires_in: int | None = None,
        issued_at: float | None = None,
    ) -> str:
        now = int(issued_at if issued_at is not None else time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "aud": audience or self.audience,
            "tid": tenant_id,
            "oid": user_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant_id}/{username}")),
            "preferred_username": username,
            "name": username.split("@")[0],
            "roles": roles,
            "iat": now,
            "nbf": now,
            "exp": now + (expires_in if expires_in is not None else self.lifetime),
            "ver": "2.0",
        }
        return self._key.sign(claims)

    def application(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self._configuration)
        app.router.add_get("/keys", self._keys)
        app.router.add_post("/token", self._token)
        app.router.add_get("/", self._page)
        return app

    async def _configuration(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"issuer": self.url, "jwks_uri": f"{self.url}/keys", "token_endpoint": f"{self.url}/token"}
        )

    async def _keys(self, request: web.Request) -> web.Response:
        return web.json_response(self._key.jwks())

    async def _token(self, request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            body = await request.json()
        else:
            form = await request.post()
            body = {
                "username": form.get("username"),
                "roles": form.getall("roles", []),
                "tenant_id": form.get("tenant_id"),
            }
        username = str(body.get("username") or "").strip()
        roles = [str(r) for r in body.get("roles") or [] if str(r) in ROLES]
        if "@" not in username:
            return web.json_response({"error": "username must look like name@organisation"}, status=400)
        token = self.mint(
            username=username,
            roles=roles,
            tenant_id=str(body.get("tenant_id") or LOCAL_TENANT),
            user_id=body.get("user_id"),
        )
        return web.json_response(
            {"access_token": token, "token_type": "Bearer", "expires_in": self.lifetime},
            headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"},
        )

    async def _page(self, request: web.Request) -> web.Response:
        role_boxes = "".join(
            f"<label><input type='checkbox' name='roles' value='{r}' checked> {html.escape(r)}</label><br>"
            for r in ROLES
        )
        page = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Local sign-in</title>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'></head>"
            "<body style='font-family:system-ui;max-width:30rem;margin:3rem auto;padding:0 1rem'>"
            "<h1>Local sign-in</h1><p>For development only: the API accepts these tokens when ENVIRONMENT=local.</p>"
            "<form method='post' action='token'>"
            "<label>User <input name='username' value='admin@contoso.example' required></label><br>"
            f"<label>Tenant <input name='tenant_id' value='{LOCAL_TENANT}'></label><br>{role_boxes}"
            "<button type='submit'>Get token</button></form></body></html>"
        )
        return web.Response(text=page, content_type="text/html")
