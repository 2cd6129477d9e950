"""The local sign-in issuer: mints portal access tokens with the same claims as Entra ID v2 tokens
(`iss`, `aud`, `tid`, `oid`, `preferred_username`, `roles`), signed RS256 with a key generated at start.
The API trusts it only when ENVIRONMENT=local.

- `GET /.well-known/openid-configuration`, `GET /keys`: discovery and the public key.
- `POST /token` (JSON `{tenant_id, user_id, username, roles}`): a token for tests and the portal's local sign-in.
- `GET /`: a sign-in page to pick a user and roles and get a token.
- `/entra/{tenant}/...`: Entra ID's tenant endpoints (v2.0 OpenID configuration, `oauth2/v2.0/authorize`, a
  sign-in page, and `oauth2/v2.0/token`) for a clinician's Microsoft 365 sign-in (OpenID Connect code flow with
  PKCE); `make run` sets ENTRA_AUTHORITY to `{issuer}/entra`.
"""

from __future__ import annotations

import html
import time
import uuid
from typing import Any

from aiohttp import web

from dev.fakes.oidc import AuthorizationCodes, id_token_claims
from dev.fakes.signing import SigningKey

LOCAL_TENANT = "10ca1000-0000-4000-8000-000000000001"
ROLES = ("Connector.Admin", "Connector.Approver")


class LocalIssuer:
    def __init__(self, audience: str, lifetime_seconds: int = 3600) -> None:
        self.audience = audience
        self.lifetime = lifetime_seconds
        self.url = ""
        self._key = SigningKey()
        self.codes = AuthorizationCodes()

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
        app.router.add_get("/entra/{tenant}/v2.0/.well-known/openid-configuration", self._entra_configuration)
        app.router.add_route("*", "/entra/{tenant}/oauth2/v2.0/authorize", self._authorize)
        app.router.add_post("/entra/{tenant}/oauth2/v2.0/token", self._code_token)
        return app

    async def _configuration(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"issuer": self.url, "jwks_uri": f"{self.url}/keys", "token_endpoint": f"{self.url}/token"}
        )

    @property
    def authority(self) -> str:
        """Where it plays Entra ID (ENTRA_AUTHORITY)."""
        return f"{self.url}/entra"

    async def _entra_configuration(self, request: web.Request) -> web.Response:
        tenant = self.authority + "/" + request.match_info["tenant"]
        return web.json_response(
            {
                "issuer": f"{tenant}/v2.0",
                "jwks_uri": f"{self.url}/keys",
                "authorization_endpoint": f"{tenant}/oauth2/v2.0/authorize",
                "token_endpoint": f"{tenant}/oauth2/v2.0/token",
            }
        )

    def subject(self, username: str, tenant_id: str = LOCAL_TENANT) -> dict[str, str]:
        """The id_token claims of a user: the same object ID as their portal tokens."""
        oid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant_id}/{username}"))
        return {"tid": tenant_id, "oid": oid, "sub": oid, "preferred_username": username}

    async def _authorize(self, request: web.Request) -> web.Response:
        """A Microsoft 365 sign-in page: the clinician names themselves, and goes back to the connector."""
        query = {k: str(v) for k, v in request.query.items()}
        refusal = self.codes.refusal(query)
        if refusal:
            return web.Response(text=refusal, status=400)
        if request.method == "POST":
            form = await request.post()
            username = str(form.get("username") or "").strip()
            if "@" in username:
                raise web.HTTPFound(self.codes.issue(query, self.subject(username, request.match_info["tenant"])))
        page = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Sign in to Microsoft 365 (local)</title>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'></head>"
            "<body style='font-family:system-ui;max-width:30rem;margin:3rem auto;padding:0 1rem'>"
            "<h1>Sign in to Microsoft 365</h1><p>For development only: this stands in for Entra ID. The connector "
            "links your EHR user to this account once, and your visits become your own Teams meetings.</p>"
            "<form method='post'><label>Account <input name='username' value='clinician@contoso.example' "
            "required></label> <button type='submit'>Sign in</button></form></body></html>"
        )
        return web.Response(text=page, content_type="text/html")

    async def _code_token(self, request: web.Request) -> web.Response:
        issuer = f"{self.authority}/{request.match_info['tenant']}/v2.0"
        return await self.codes.token(
            request, lambda client_id, code: self._key.sign(id_token_claims(issuer, client_id, code))
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
