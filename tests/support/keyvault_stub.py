"""A loopback HTTPS stand-in for Key Vault's secrets API that checks what the service checks: the bearer
challenge on an unauthenticated request, the bearer token, the api-version, and the secret name rules."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from aiohttp import web

_NAME = re.compile(r"^[0-9A-Za-z-]{1,127}$")


@dataclass
class KeyVaultStub:
    token: str
    tenant_id: str = "00000000-0000-0000-0000-000000000001"
    secrets: dict[str, list[str]] = field(default_factory=dict)
    requests: list[tuple[str, str, bool]] = field(default_factory=list)

    def application(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/secrets/{name}", self._get)
        app.router.add_get("/secrets/{name}/", self._get)
        app.router.add_put("/secrets/{name}", self._put)
        return app

    def _check(self, request: web.Request) -> web.Response | None:
        authorization = request.headers.get("Authorization", "")
        self.requests.append((request.method, request.path, bool(authorization)))
        if "api-version" not in request.query:
            return web.json_response({"error": {"code": "MissingApiVersionParameter"}}, status=400)
        if not authorization:
            challenge = (
                f'Bearer authorization="https://login.microsoftonline.com/{self.tenant_id}", '
                'resource="https://vault.azure.net"'
            )
            return web.json_response(
                {"error": {"code": "Unauthorized", "message": "AKV10000: Request is missing a Bearer token."}},
                status=401,
                headers={"WWW-Authenticate": challenge},
            )
        if authorization != f"Bearer {self.token}":
            return web.json_response({"error": {"code": "Unauthorized", "message": "AKV10032"}}, status=401)
        if not _NAME.match(request.match_info["name"]):
            return web.json_response({"error": {"code": "BadParameter"}}, status=400)
        return None

    def _bundle(self, request: web.Request, name: str) -> dict[str, object]:
        version = len(self.secrets[name])
        base = f"{request.scheme}://{request.host}"
        return {"value": self.secrets[name][-1], "id": f"{base}/secrets/{name}/{version:032x}", "attributes": {}}

    async def _get(self, request: web.Request) -> web.Response:
        refused = self._check(request)
        if refused:
            return refused
        name = request.match_info["name"]
        if name not in self.secrets:
            return web.json_response(
                {"error": {"code": "SecretNotFound", "message": f"A secret with (name/id) {name} was not found"}},
                status=404,
            )
        return web.json_response(self._bundle(request, name))

    async def _put(self, request: web.Request) -> web.Response:
        refused = self._check(request)
        if refused:
            return refused
        body = await request.json()
        if "value" not in body:
            return web.json_response({"error": {"code": "BadParameter", "message": "value is required"}}, status=400)
        name = request.match_info["name"]
        self.secrets.setdefault(name, []).append(body["value"])
        return web.json_response(self._bundle(request, name))
