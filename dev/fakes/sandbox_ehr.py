"""The sandbox EHR: a real HTTP server speaking SMART on FHIR on the wire, for `make run` and the tests.

- `/fhir`: a SMART v2 server (`.well-known/smart-configuration`, `.well-known/openid-configuration`, `metadata`).
- `/legacy/fhir`: an older Epic-style server that has only `metadata` (CapabilityStatement oauth-uris).
- `/oauth2/authorize` (GET or form POST): checks the client, redirect URI, PKCE S256 and `aud`, then signs in the
  configured user at once (no page) and redirects back with a one-time code.
- `/oauth2/token`: single-use codes that live 60 s, the PKCE verifier checked against the challenge, and an RS256
  id_token (`fhirUser`, `nonce`) signed with a key generated at start and published at `/oauth2/jwks`.
- EHR launch: a `launch` value is base64url JSON of the context (`user`, `patient`, `encounter`, `appointment`,
  `fhirContext`, and Epic's token-response parameters `csn`, `conferenceId`, `departmentId`), as
  smart-launcher-v2 carries context in its launch value; the token response returns that context and the
  id_token's `fhirUser` is the launch's user.
- `/ehr`: a "Begin virtual visit" page listing sample appointments, each with the clinician's and the patient
  portal's button, which open the connector's launch URLs as the EHR's launch records would.
- `/_sandbox/...`: test controls (the next id_token's claim overrides; the users and clients).
- a profile (`ehr_profiles.py`: `epic` by default, `oracle`, `strict`, `quirky`, ...) switches what the
  specifications leave to the EHR: where discovery is found, how id_tokens are signed and keys published, which
  scopes are granted, what context comes back, POST-only authorize, confidential clients, authorize errors.
- writeback receivers (Epic connection status, FHIR AuditEvent and Appointment), in sandbox_writeback.py.
- `/_sandbox/sms/reply`: the patient's phone for `make run`: a text the patient sends to the clinic's number,
  delivered to the connector as Event Grid delivers inbound SMS (with the host's function key).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.typedefs import Handler

from dev.fakes.ehr_profiles import PROFILES, EhrProfile
from dev.fakes.hl7_sender import Hl7Sender
from dev.fakes.sandbox_writeback import SandboxWritebacks
from dev.fakes.signing import SigningKey
from shared.core.usage import call_name, usage

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
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SampleAppointment:
    id: str
    csn: str
    patient: str
    encounter: str
    description: str
    conference_id: str = ""
    department_id: str = "D100"


SAMPLE_APPOINTMENTS = (
    SampleAppointment("A1001", "778899001", "P2001", "E3001", "Follow-up, video, 30 min"),
    SampleAppointment("A1002", "778899002", "P2002", "E3002", "New patient, video, 45 min"),
    SampleAppointment("A1003", "778899003", "P2003", "E3003", "Group session (1 of 2)", conference_id="GRP42"),
    SampleAppointment("A1004", "778899004", "P2004", "E3004", "Group session (2 of 2)", conference_id="GRP42"),
)


# What the token response returns of a launch's context: SMART's, then the FDI record's token-response parameters.
TOKEN_CONTEXT: tuple[str, ...] = ("patient", "encounter", "appointment", "fhirContext", "need_patient_banner")
TOKEN_CONTEXT += ("csn", "conferenceId", "departmentId", "launchRecord")


def encode_launch(context: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(context, separators=(",", ":")).encode()).rstrip(b"=").decode()


def decode_launch(value: str) -> dict[str, Any]:
    decoded = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    if not isinstance(decoded, dict):
        raise ValueError("launch context must be an object")
    return decoded


class _Refused(Exception):
    """A client assertion the token endpoint refuses, with the OAuth error it answers."""

    def __init__(self, description: str, code: str = "invalid_client", status: int = 401) -> None:
        super().__init__(description)
        self.description, self.code, self.status = description, code, status


@web.middleware
async def _counted(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The calls the connector makes to the EHR, in the usage counts when they are on (the browser's authorize
    and the sandbox's own controls are not the connector's)."""
    if not request.path.startswith(("/_sandbox/", "/oauth2/authorize", "/ehr")) and request.path != "/":
        usage.record("ehr", call_name(request.method, request.path))
    return await handler(request)


@dataclass
class SandboxEhr:
    clients: dict[str, set[str]] = field(default_factory=dict)
    user: SandboxUser = field(
        default_factory=lambda: SandboxUser("E1001", "Practitioner/E1001", "Dr Avery Analyst"),
    )
    url: str = ""
    connector_url: str = ""  # where the launch records point (the connector's public base URL)
    function_key: str = ""  # the connector host's, for the inbound texts the patient's phone delivers
    id_token_overrides: dict[str, Any] = field(default_factory=dict)
    forge_next_id_token: bool = False  # sign the next id_token with a key the JWKS does not publish
    token_requests: int = 0
    backend_clients: dict[str, str] = field(default_factory=dict)  # client ID -> its registered JWKS URL
    backend_token_lifetime: int = 300
    backend_tokens: dict[str, str] = field(default_factory=dict)  # access token -> client ID
    issued: list[str] = field(default_factory=list)  # every code and token given out (tests check none leaks)
    profile: EhrProfile = PROFILES["epic"]

    def __post_init__(self) -> None:
        self._key = SigningKey(
            self.profile.id_token_alg,
            send_kid=self.profile.send_kid,
            describe=self.profile.describe_keys,
            x5c_only=self.profile.x5c_only,
        )
        self.hl7 = Hl7Sender()
        self._codes: dict[str, _Grant] = {}
        self._seen_jti: set[str] = set()
        self.writebacks = SandboxWritebacks(self.backend_tokens, [a.id for a in SAMPLE_APPOINTMENTS])

    @property
    def fhir_base(self) -> str:
        return f"{self.url}/fhir"

    @property
    def legacy_fhir_base(self) -> str:
        return f"{self.url}/legacy/fhir"

    @property
    def issuer(self) -> str:
        """The issuer as discovery states it, and as id_tokens carry it, exactly."""
        return self.fhir_base + ("/" if self.profile.issuer_slash else "")

    def register_client(self, client_id: str, redirect_uri: str) -> None:
        self.clients.setdefault(client_id, set()).add(redirect_uri)

    def register_backend_client(self, client_id: str, jwks_url: str) -> None:
        """A SMART backend-services client, known by the JWKS URL its assertions are checked against. A URL ending
        in / is a prefix: the assertion's `jku` under it is used (the dev host's one client for every local
        organisation; a real EHR registers one exact URL per client)."""
        self.backend_clients[client_id] = jwks_url

    def application(self) -> web.Application:
        app = web.Application(middlewares=[_counted])
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
        app.router.add_get("/_sandbox/profile", self._profile)
        app.router.add_get("/", self._home)
        app.router.add_get("/ehr", self._begin_visit_page)
        app.router.add_get("/_sandbox/hl7/certificate", self._hl7_certificate)
        app.router.add_post("/_sandbox/hl7/send", self._hl7_send)
        app.router.add_post("/_sandbox/sms/reply", self._sms_reply)
        app.router.add_routes(self.writebacks.routes())
        return app

    async def _home(self, request: web.Request) -> web.Response:
        return web.Response(
            text=f"Sandbox EHR. FHIR base URL: {self.fhir_base} (legacy, metadata only: {self.legacy_fhir_base})\n"
        )

    async def _smart_configuration(self, request: web.Request) -> web.Response:
        if self.profile.discovery == "metadata":
            raise web.HTTPNotFound()
        capabilities = [
            "launch-ehr",
            "launch-standalone",
            "client-public",
            "client-confidential-asymmetric",
            "sso-openid-connect",
            "context-ehr-patient",
            "context-ehr-encounter",
            "permission-v2",
        ] + (["authorize-post"] if self.profile.authorize_post else [])
        return web.json_response(
            {
                "issuer": self.issuer,
                "jwks_uri": f"{self.url}/oauth2/jwks",
                "authorization_endpoint": f"{self.url}/oauth2/authorize",
                "token_endpoint": f"{self.url}/oauth2/token",
                "grant_types_supported": ["authorization_code", "client_credentials"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt", "none"],
                "scopes_supported": ["openid", "fhirUser", "launch", "launch/patient", "offline_access"],
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"],
                "capabilities": capabilities,
            }
        )

    async def _openid_configuration(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": self.issuer,
                "jwks_uri": f"{self.url}/oauth2/jwks",
                "authorization_endpoint": f"{self.url}/oauth2/authorize",
                "token_endpoint": f"{self.url}/oauth2/token",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": [self.profile.id_token_alg],
            }
        )

    async def _metadata(self, request: web.Request) -> web.Response:
        legacy = request.path.startswith("/legacy/")
        if self.profile.discovery == "well-known" and not legacy:
            extensions: list[dict[str, Any]] = []  # a CapabilityStatement without SMART's security extension
        else:
            retired = "retired-" if self.profile.discovery == "disagree" and not legacy else ""
            extensions = [
                {
                    "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                    "extension": [
                        {"url": "authorize", "valueUri": f"{self.url}/oauth2/{retired}authorize"},
                        {"url": "token", "valueUri": f"{self.url}/oauth2/{retired}token"},
                    ],
                }
            ]
        return web.json_response(
            {
                "resourceType": "CapabilityStatement",
                "status": "active",
                "kind": "instance",
                "fhirVersion": "4.0.1",
                "format": ["json"],
                "rest": [{"mode": "server", "security": {"extension": extensions}}],
            },
            content_type="application/fhir+json",
        )

    async def _jwks(self, request: web.Request) -> web.Response:
        return web.json_response(self._key.jwks())

    @staticmethod
    def _error_page(message: str) -> web.Response:
        return web.Response(status=400, text=f"Sandbox EHR refused the request: {message}")

    async def _authorize(self, request: web.Request) -> web.Response:
        if request.method == "GET" and self.profile.refuse_get:
            return web.Response(status=405, headers={"Allow": "POST"}, text="Sandbox EHR: authorize by POST only")
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
        if self.profile.authorize_error:
            error, description = self.profile.authorize_error
            raise back(error=error, error_description=description)
        context: dict[str, Any] = {}
        user = self.user
        if params.get("launch"):
            try:
                context = decode_launch(params["launch"])
            except ValueError:
                raise back(error="invalid_request", error_description="unknown launch") from None
            if str(context.get("user", "")).startswith("Patient/"):
                user = SandboxUser(context["user"].split("/", 1)[1], context["user"], "Patient")
        code = secrets.token_urlsafe(24)
        self.issued.append(code)
        self._codes[code] = _Grant(
            client_id,
            redirect_uri,
            params["code_challenge"],
            " ".join(s for s in params.get("scope", "").split() if s not in self.profile.withheld_scopes),
            params.get("nonce"),
            user,
            time.time(),
            context,
        )
        raise back(code=code)

    async def _token(self, request: web.Request) -> web.Response:
        self.token_requests += 1
        form = {k: str(v) for k, v in (await request.post()).items()}

        def error(code: str, description: str, status: int = 400) -> web.Response:
            return web.json_response({"error": code, "error_description": description}, status=status)

        if form.get("grant_type") == "client_credentials":
            return await self._backend_token(form, error)
        if form.get("grant_type") != "authorization_code":
            return error("unsupported_grant_type", "authorization_code or client_credentials")
        grant = self._codes.pop(form.get("code", ""), None)  # single use, even when the request fails below
        if grant is None or time.time() - grant.issued > CODE_LIFETIME_SECONDS:
            return error("invalid_grant", "unknown, used or expired code")
        if "client_assertion" in form:
            try:
                client_id = await self._client_assertion(form)
            except _Refused as refused:
                return error(refused.code, refused.description, refused.status)
        elif self.profile.confidential:
            return error("invalid_client", "this client must authenticate with a private_key_jwt assertion", 401)
        else:
            client_id = form.get("client_id", "")
        if client_id != grant.client_id or form.get("redirect_uri") != grant.redirect_uri:
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
        scopes = grant.scope.split()
        if "launch" in scopes:
            for name in TOKEN_CONTEXT:
                if name in grant.context and self._returns(name):
                    body[name] = grant.context[name]
        fhir_user = f"{self.fhir_base}/{grant.user.fhir_user}"
        if self.profile.fhir_user_in_token:
            body["fhirUser"] = fhir_user
        if "openid" in scopes and self.profile.id_token:
            claims: dict[str, Any] = {
                "iss": self.issuer,
                "sub": grant.user.id,
                "aud": grant.client_id,
                "iat": now,
                "exp": now + 300,
                "name": grant.user.name,
            }
            if "fhirUser" in scopes:
                claims["fhirUser"] = fhir_user
            if grant.nonce:
                claims["nonce"] = grant.nonce
            claims.update(self.id_token_overrides)
            self.id_token_overrides = {}
            signer = self._key
            if self.forge_next_id_token:
                signer, self.forge_next_id_token = SigningKey(self.profile.id_token_alg), False
                signer.kid, signer.send_kid = self._key.kid, self._key.send_kid
            body["id_token"] = signer.sign(claims)
        self.issued += [body["access_token"], *([body["id_token"]] if "id_token" in body else [])]
        return web.json_response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    def _returns(self, name: str) -> bool:
        if name in ("patient", "encounter"):
            return self.profile.patient_context
        if name in ("csn", "conferenceId", "departmentId", "launchRecord"):
            return self.profile.epic_context
        return True

    async def _client_assertion(self, form: dict[str, str]) -> str:
        """The client ID of a private_key_jwt assertion checked as SMART requires (registered JWKS URL,
        RS384/ES384, typ JWT, kid, aud = the token URL, at most 5 minutes, a jti never seen), else _Refused."""
        import aiohttp
        import jwt

        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            raise _Refused("client_assertion_type must be jwt-bearer", "invalid_request", 400)
        assertion = form.get("client_assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise _Refused("client_assertion is not a JWT", status=400) from None
        client_id = str(unverified.get("iss", ""))
        jwks_url = self.backend_clients.get(client_id)
        if jwks_url is None or unverified.get("sub") != client_id:
            raise _Refused("unknown client, or iss and sub differ")
        if header.get("alg") not in ("RS384", "ES384") or header.get("typ") != "JWT" or not header.get("kid"):
            raise _Refused("the assertion header needs alg RS384/ES384, typ JWT and kid")
        jku = str(header.get("jku") or "")
        if jwks_url.endswith("/") and jku.startswith(jwks_url) and len(jku) > len(jwks_url):
            jwks_url = jku  # a prefix registration (make run's one local client for every organisation)
        if header.get("jku") not in (None, jwks_url):
            raise _Refused("jku is not the registered JWKS URL")
        async with aiohttp.ClientSession() as session, session.get(jwks_url) as answer:
            keys = (await answer.json()).get("keys", []) if answer.status == 200 else []
        jwk = next((k for k in keys if k.get("kid") == header["kid"]), None)
        if jwk is None:
            raise _Refused("no key with this kid at the registered JWKS URL")
        try:
            claims = jwt.decode(
                assertion,
                jwt.PyJWK(jwk).key,
                algorithms=[header["alg"]],
                audience=f"{self.url}/oauth2/token",
                options={"require": ["iss", "sub", "aud", "exp", "jti"]},
            )
        except jwt.PyJWTError as failure:
            raise _Refused(f"assertion refused: {failure}") from None
        if claims["exp"] - int(claims.get("iat", time.time())) > 300 or claims["jti"] in self._seen_jti:
            raise _Refused("assertion lives over 5 minutes, or its jti was used before")
        self._seen_jti.add(claims["jti"])
        return client_id

    async def _backend_token(self, form: dict[str, str], error: Callable[..., web.Response]) -> web.Response:
        """Client credentials with a private_key_jwt assertion, checked as SMART backend services require."""
        try:
            client_id = await self._client_assertion(form)
        except _Refused as refused:
            return error(refused.code, refused.description, refused.status)
        token = secrets.token_urlsafe(32)
        self.issued.append(token)
        self.backend_tokens[token] = client_id
        body = {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": self.backend_token_lifetime,
            "scope": form.get("scope", ""),
        }
        return web.json_response(body, headers={"Cache-Control": "no-store"})

    async def _set_overrides(self, request: web.Request) -> web.Response:
        self.id_token_overrides = dict(await request.json())
        return web.Response(status=204)

    async def _profile(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"name": self.profile.name, "summary": self.profile.summary, "confidential": self.profile.confidential}
        )

    async def _add_client(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.register_client(str(body["client_id"]), str(body["redirect_uri"]))
        return web.Response(status=204)

    def launch_context(self, appointment: SampleAppointment, user: str) -> dict[str, Any]:
        """The launch's context; the token response returns it, with the launch record's token-response
        parameters (CSN, conference ID, department), as Epic does."""
        context = {
            "user": user,
            "patient": appointment.patient,
            "encounter": appointment.encounter,
            "appointment": appointment.id,
            "fhirContext": [{"reference": f"Appointment/{appointment.id}"}],
            "csn": appointment.csn,
            "conferenceId": appointment.conference_id,
            "departmentId": appointment.department_id,
        }
        return {name: value for name, value in context.items() if value}

    def launch_url(
        self,
        appointment: SampleAppointment,
        kind: str,
        *,
        user: str | None = None,
        route: str | None = None,
        **url_parameters: str,
    ) -> str:
        """The URL the EHR opens for a launch record (`kind`: provider or patient): iss and launch, and any extra
        URL parameters given (a record configured with URL parameters, or an edited address). `user` signs in
        someone else than the record's usual user; `route` is an edited path (a patient's launch sent to the
        clinicians' address, say). The launch remembers its record, which comes back as `launchRecord`."""
        if user is None:
            user = self.user.fhir_user if kind == "provider" else f"Patient/{appointment.patient}"
        context = {**self.launch_context(appointment, user), "launchRecord": kind}
        params = {**url_parameters, "iss": self.fhir_base, "launch": encode_launch(context)}
        return f"{self.connector_url}/api/launch/{route or kind}?" + urlencode({k: v for k, v in params.items() if v})

    async def _begin_visit_page(self, request: web.Request) -> web.Response:
        rows = "".join(
            "<tr>"
            f"<td>{html.escape(a.description)}</td><td>{html.escape(a.csn)}</td>"
            f"<td><a href='{html.escape(self.launch_url(a, 'provider'))}' target='_blank'>Begin virtual visit</a></td>"
            f"<td><a href='{html.escape(self.launch_url(a, 'patient'))}' target='_blank'>Begin virtual visit</a></td>"
            "</tr>"
            for a in SAMPLE_APPOINTMENTS
        )
        page = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Sandbox EHR: schedule</title>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<style>body{font-family:system-ui;margin:2rem}td,th{padding:.4rem .8rem;text-align:left}</style>"
            "</head><body><h1>Sandbox EHR: today's video visits</h1>"
            f"<p>Signed in as {html.escape(self.user.name)} ({html.escape(self.user.fhir_user)}). "
            f"FHIR base URL: <code>{html.escape(self.fhir_base)}</code></p>"
            "<table><thead><tr><th>Appointment</th><th>CSN</th><th>Clinician (Hyperspace)</th>"
            f"<th>Patient (portal)</th></tr></thead><tbody>{rows}</tbody></table>"
            "<p><a href='/ehr/writebacks'>Connection status and audit events written back by the connector</a></p>"
            "</body></html>"
        )
        return web.Response(text=page, content_type="text/html")

    async def _hl7_certificate(self, request: web.Request) -> web.Response:
        return web.Response(text=self.hl7.certificate_pem, content_type="application/x-pem-file")

    async def _sms_reply(self, request: web.Request) -> web.Response:
        """A patient's text to the clinic's number: JSON {from, to, message}, posted to the connector as Event
        Grid's `SMSReceived`; answers with the connector's status."""
        import asyncio
        import uuid

        import httpx

        from dev.fakes.event_grid import sms_received

        body = await request.json()
        event_id = str(uuid.uuid4())
        event = sms_received(message_id=event_id, sender=body["from"], to=body["to"], message=str(body["message"]))
        url = f"{self.connector_url}/api/events/sms"
        answer = await asyncio.to_thread(
            httpx.post, url, json=[event], headers={"x-functions-key": self.function_key}, timeout=30
        )
        return web.json_response({"status": answer.status_code})

    async def _hl7_send(self, request: web.Request) -> web.Response:
        """Send a signed SIU for a sample appointment: JSON {endpoint_id, event, appointment (index), start
        (ISO 8601), phone (E.164), language (PID-15, optional)}; answers with the connector's ACK."""
        import asyncio
        from datetime import datetime

        body = await request.json()
        appointment = SAMPLE_APPOINTMENTS[int(body.get("appointment", 0))]
        message = self.hl7.message(
            event=str(body.get("event", "S12")),
            csn=appointment.csn,
            appointment_id=appointment.id,
            start=datetime.fromisoformat(str(body["start"])),
            minutes=int(body.get("minutes", 30)),
            phone=str(body.get("phone", "+12175550123")),
            language=str(body.get("language", "")),
        )
        url = f"{self.connector_url}/api/hl7/{body['endpoint_id']}"
        answer = await asyncio.to_thread(self.hl7.send, url, message)
        return web.json_response({"status": answer.status_code, "ack": answer.text})
