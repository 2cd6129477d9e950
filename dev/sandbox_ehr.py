"""The sandbox EHR: a real HTTP server speaking SMART on FHIR on the wire, for `make run` and the tests.

- `/fhir`: a SMART v2 server (`.well-known/smart-configuration`, `.well-known/openid-configuration`, `metadata`).
- `/legacy/fhir`: an older Epic-style server that has only `metadata` (CapabilityStatement oauth-uris).
- `/oauth2/authorize` (GET or form POST): checks the client, redirect URI, PKCE S256 and `aud`, then signs in the
  configured user at once (no page) and redirects back with a one-time code.
- `/oauth2/token`: single-use codes that live 60 s, the PKCE verifier checked against the challenge, and an RS256
  id_token (`fhirUser`, `nonce`) signed with a key generated at start and published at `/oauth2/jwks`.
- `/_sandbox/...`: test controls (the next id_token's claim overrides; the users and clients).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from dev.signing import SigningKey

CODE_LIFETIME_SECONDS = 60


@dataclass(frozen=True)
class SandboxUser:
    id: str
    fhir_user: str
    name: str


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    scope: str
    nonce: str | None
    user: SandboxUser
    issued: float


@dataclass
class SandboxEhr:
    clients: dict[str, set[str]] = field(default_factory=dict)
    user: SandboxUser = field(
        default_factory=lambda: SandboxUser("E1001", "Practitioner/E1001", "Dr Avery Analyst"),
    )
    url: str = ""
    id_token_overrides: dict[str, Any] = field(default_factory=dict)
    token_requests: int = 0

    def __post_init__(self) -> None:
        self._key = SigningKey()
        self._codes: dict[str, _Grant] = {}

    @property
    def fhir_base(self) -> str:
        return f"{self.url}/fhir"

    @property
    def legacy_fhir_base(self) -> str:
        return f"{self.url}/legacy/fhir"

    def register_client(self, client_id: str, redirect_uri: str) -> None:
        self.clients.setdefault(client_id, set()).add(redirect_uri)

    def application(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/fhir/.well-known/smart-configuration", self._smart_configuration)
        app.router.add_get("/fhir/.well-known/openid-configuration", self._openid_configuration)
        app.router.add_get("/fhir/metadata", self._metadata)
        app.router.add_get("/legacy/fhir/metadata", self._metadata)
        app.router.add_get("/oauth2/jwks", self._jwks)
        app.router.add_route("GET", "/oauth2/authorize", self._authorize)
        app.router.add_route("POST", "/oauth2/authorize", self._authorize)
        app.router.add_post("/oauth2/token", self._token)
        app.router.add_post("/_sandbox/id-token-overrides", self._set_overrides)
        app.router.add_post("/_sandbox/clients", self._add_client)
        app.router.add_get("/", self._home)
        return app

    async def _home(self, request: web.Request) -> web.Response:
        return web.Response(
            text=f"Sandbox EHR. FHIR base URL: {self.fhir_base} (legacy, metadata only: {self.legacy_fhir_base})\n"
        )

    async def _smart_configuration(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": self.fhir_base,
                "jwks_uri": f"{self.url}/oauth2/jwks",
                "authorization_endpoint": f"{self.url}/oauth2/authorize",
                "token_endpoint": f"{self.url}/oauth2/token",
                "grant_types_supported": ["authorization_code", "client_credentials"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt", "none"],
                "scopes_supported": ["openid", "fhirUser", "launch", "launch/patient", "offline_access"],
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"],
                "capabilities": [
                    "launch-ehr",
                    "launch-standalone",
                    "client-public",
                    "client-confidential-asymmetric",
                    "sso-openid-connect",
                    "context-ehr-patient",
                    "context-ehr-encounter",
                    "permission-v2",
                ],
            }
        )

    async def _openid_configuration(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": self.fhir_base,
                "jwks_uri": f"{self.url}/oauth2/jwks",
                "authorization_endpoint": f"{self.url}/oauth2/authorize",
                "token_endpoint": f"{self.url}/oauth2/token",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def _metadata(self, request: web.Request) -> web.Response:
        oauth = {
            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
            "extension": [
                {"url": "authorize", "valueUri": f"{self.url}/oauth2/authorize"},
                {"url": "token", "valueUri": f"{self.url}/oauth2/token"},
            ],
        }
        return web.json_response(
            {
                "resourceType": "CapabilityStatement",
                "status": "active",
                "kind": "instance",
                "fhirVersion": "4.0.1",
                "format": ["json"],
                "rest": [{"mode": "server", "security": {"extension": [oauth]}}],
            },
            content_type="application/fhir+json",
        )

    async def _jwks(self, request: web.Request) -> web.Response:
        return web.json_response(self._key.jwks())

    @staticmethod
    def _error_page(message: str) -> web.Response:
        return web.Response(status=400, text=f"Sandbox EHR refused the request: {message}")

    async def _authorize(self, request: web.Request) -> web.Response:
        params: dict[str, str] = dict(request.query)
        if request.method == "POST":
            params.update({k: str(v) for k, v in (await request.post()).items()})
        client_id = params.get("client_id", "")
        redirect_uri = params.get("redirect_uri", "")
        if client_id not in self.clients:
            return self._error_page(f"unknown client_id {client_id!r}")
        if redirect_uri not in self.clients[client_id]:
            return self._error_page("redirect_uri is not registered for this client")
        state = params.get("state", "")

        def back(**values: str) -> web.HTTPFound:
            return web.HTTPFound(f"{redirect_uri}?{urlencode({**values, 'state': state})}")

        if params.get("response_type") != "code":
            raise back(error="unsupported_response_type")
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            raise back(error="invalid_request", error_description="PKCE S256 is required")
        if params.get("aud", "").rstrip("/") not in {self.fhir_base, self.legacy_fhir_base}:
            raise back(error="invalid_request", error_description="aud is not this FHIR server")
        if not state:
            raise back(error="invalid_request", error_description="state is required")
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Grant(
            client_id,
            redirect_uri,
            params["code_challenge"],
            params.get("scope", ""),
            params.get("nonce"),
            self.user,
            time.time(),
        )
        raise back(code=code)

    async def _token(self, request: web.Request) -> web.Response:
        self.token_requests += 1
        form = {k: str(v) for k, v in (await request.post()).items()}

        def error(code: str, description: str, status: int = 400) -> web.Response:
            return web.json_response({"error": code, "error_description": description}, status=status)

        if form.get("grant_type") != "authorization_code":
            return error("unsupported_grant_type", "only authorization_code")
        grant = self._codes.pop(form.get("code", ""), None)  # single use, even when the request fails below
        if grant is None or time.time() - grant.issued > CODE_LIFETIME_SECONDS:
            return error("invalid_grant", "unknown, used or expired code")
        if form.get("client_id") != grant.client_id or form.get("redirect_uri") != grant.redirect_uri:
            return error("invalid_grant", "client_id or redirect_uri differs from the authorize request")
        verifier = form.get("code_verifier", "")
        computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if not verifier or not secrets.compare_digest(computed, grant.challenge):
            return error("invalid_grant", "code_verifier does not match the code_challenge")
        now = int(time.time())
        body: dict[str, Any] = {
            "access_token": secrets.token_urlsafe(32),
            "token_type": "bearer",
            "expires_in": 3600,
            "scope": grant.scope,
        }
        if "openid" in grant.scope.split():
            claims: dict[str, Any] = {
                "iss": self.fhir_base,
                "sub": grant.user.id,
                "aud": grant.client_id,
                "iat": now,
                "exp": now + 300,
                "fhirUser": f"{self.fhir_base}/{grant.user.fhir_user}",
                "name": grant.user.name,
            }
            if grant.nonce:
                claims["nonce"] = grant.nonce
            claims.update(self.id_token_overrides)
            self.id_token_overrides = {}
            body["id_token"] = self._key.sign(claims)
        return web.json_response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    async def _set_overrides(self, request: web.Request) -> web.Response:
        self.id_token_overrides = dict(await request.json())
        return web.Response(status=204)

    async def _add_client(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.register_client(str(body["client_id"]), str(body["redirect_uri"]))
        return web.Response(status=204)
