"""The authorization-code half of an OpenID Connect provider, as Entra ID's v2.0 endpoints behave, for the stand-ins
that play it (the dev host's local issuer, the tests' Entra stub): registered clients and redirect URIs, `openid`
in the scope, PKCE with S256 only, single-use codes that live 10 minutes, and the client's secret at the token
endpoint. The caller signs the id_token with its own key.

Delegated Microsoft Graph access as Entra grants it: a code asked with Graph scopes
(`https://graph.microsoft.com/VirtualAppointment.Read`) also redeems for an access token for Graph, whose claims
(tid, oid, scp) the Graph stand-ins look up in `access_tokens` (Graph's tokens are opaque to their clients), and
with `offline_access` for a refresh token; the refresh-token grant gives a new access token and a new refresh token
(the old one stays valid, as Entra's do) until the user's grants are revoked (`revoke`: `invalid_grant`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

CODE_LIFETIME = 600


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    subject: dict[str, str]
    issued: float
    scope: str = "openid"


@dataclass
class AuthorizationCodes:
    clients: dict[str, tuple[str, set[str]]] = field(default_factory=dict)
    """client ID -> (client secret, registered redirect URIs)."""
    codes: dict[str, _Code] = field(default_factory=dict)
    token_requests: int = 0
    access_tokens: dict[str, dict[str, str]] = field(default_factory=dict)
    """Graph access token -> its claims (tid, oid, scp)."""
    refresh_tokens: dict[str, tuple[str, dict[str, str], str]] = field(default_factory=dict)
    """Refresh token -> (client ID, the user's claims, the granted Graph scopes)."""
    refresh_requests: int = 0

    def register(self, client_id: str, secret: str, redirect_uri: str) -> None:
        known = self.clients.setdefault(client_id, (secret, set()))
        self.clients[client_id] = (secret, known[1] | {redirect_uri})

    def refusal(self, query: Mapping[str, str]) -> str | None:
        """Why an authorize request is refused before anyone signs in (shown as an error page, as Entra does
        for an unknown client or redirect URI), else None."""
        client = self.clients.get(query.get("client_id", ""))
        if client is None:
            return "AADSTS700016: the application was not found in the directory"
        if query.get("redirect_uri") not in client[1]:
            return "AADSTS50011: the redirect URI does not match the application's"
        return None

    def issue(self, query: Mapping[str, str], subject: dict[str, str]) -> str:
        """The redirect back to the client after a sign-in as `subject` (its claims): a code, or an error."""
        back = query["redirect_uri"]
        answer: dict[str, str] = {"state": query.get("state", "")}
        if query.get("response_type") != "code":
            answer |= {"error": "unsupported_response_type"}
        elif "openid" not in query.get("scope", "").split():
            answer |= {"error": "invalid_request", "error_description": "openid is required"}
        elif query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            answer |= {"error": "invalid_request", "error_description": "PKCE with S256 is required"}
        else:
            code = secrets.token_urlsafe(24)
            self.codes[code] = _Code(
                query["client_id"],
                back,
                query["code_challenge"],
                query.get("nonce"),
                subject,
                time.time(),
                query.get("scope", ""),
            )
            answer |= {"code": code}
        return back + ("&" if "?" in back else "?") + urlencode(answer)

    async def token(self, request: web.Request, sign: Callable[[str, _Code], str]) -> web.Response:
        """The token endpoint: `sign(client_id, code)` makes the id_token."""
        self.token_requests += 1
        form = await request.post()
        values = {k: str(v) for k, v in form.items()}

        def refused(error: str, status: int = 400) -> web.Response:
            return web.json_response({"error": error}, status=status)

        client = self.clients.get(values.get("client_id", ""))
        if client is None or not hmac.compare_digest(client[0], values.get("client_secret", "")):
            return refused("invalid_client", 401)
        if values.get("grant_type") == "refresh_token":
            return self._refresh(values)
        if values.get("grant_type") != "authorization_code":
            return refused("unsupported_grant_type")
        code = self.codes.pop(values.get("code", ""), None)  # single use, even when the rest is wrong
        if code is None or time.time() - code.issued > CODE_LIFETIME or code.client_id != values["client_id"]:
            return refused("invalid_grant")
        if code.redirect_uri != values.get("redirect_uri"):
            return refused("invalid_grant")
        digest = hashlib.sha256(values.get("code_verifier", "").encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != code.challenge:
            return refused("invalid_grant")
        answer: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": "openid",
            "expires_in": 3600,
            "id_token": sign(values["client_id"], code),
        }
        graph = graph_scopes(code.scope)
        if graph:
            answer |= self._graph_tokens(values["client_id"], code.subject, graph, "offline_access" in code.scope)
        return web.json_response(answer, headers={"Cache-Control": "no-store"})

    def _graph_tokens(self, client_id: str, subject: dict[str, str], scopes: str, offline: bool) -> dict[str, Any]:
        access = "graph-" + secrets.token_urlsafe(24)
        self.access_tokens[access] = {"tid": subject.get("tid", ""), "oid": subject.get("oid", ""), "scp": scopes}
        answer: dict[str, Any] = {"access_token": access, "scope": scopes}
        if offline:
            refresh = "rt-" + secrets.token_urlsafe(32)
            self.refresh_tokens[refresh] = (client_id, dict(subject), scopes)
            answer["refresh_token"] = refresh
        return answer

    def _refresh(self, values: dict[str, str]) -> web.Response:
        self.refresh_requests += 1
        grant = self.refresh_tokens.get(values.get("refresh_token", ""))
        if grant is None or grant[0] != values["client_id"]:
            return web.json_response(
                {"error": "invalid_grant", "error_description": "AADSTS700082: The refresh token has expired."},
                status=400,
            )
        asked = graph_scopes(values.get("scope", ""))
        if not asked or not set(asked.split()) <= set(grant[2].split()):
            return web.json_response({"error": "invalid_scope"}, status=400)
        answer = {"token_type": "Bearer", "expires_in": 3600} | self._graph_tokens(grant[0], grant[1], asked, True)
        return web.json_response(answer, headers={"Cache-Control": "no-store"})

    def revoke(self, oid: str) -> None:
        """The user's sessions are revoked (or consent withdrawn): their refresh tokens stop working."""
        for token, grant in list(self.refresh_tokens.items()):
            if grant[1].get("oid") == oid:
                del self.refresh_tokens[token]


GRAPH = "https://graph.microsoft.com/"


def graph_scopes(scope: str) -> str:
    """The Graph permissions in a scope parameter, as the access token's `scp` names them."""
    return " ".join(s.removeprefix(GRAPH) for s in scope.split() if s.startswith(GRAPH))


def id_token_claims(issuer: str, client_id: str, code: _Code) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {"iss": issuer, "aud": client_id, "iat": now, "nbf": now, "exp": now + 3600}
    claims |= {"ver": "2.0", **code.subject}
    if code.nonce:
        claims["nonce"] = code.nonce
    return claims
