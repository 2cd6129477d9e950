"""A loopback stand-in for the Microsoft Graph online-meetings API that checks what Graph checks: the bearer
token, createOrGet's required fields (externalId, startDateTime, endDateTime), idempotency per organizer and
externalId (201 then 200), and the lobby PATCH body. Failures can be scripted (e.g. 429 with Retry-After)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class GraphStub:
    token: str
    url: str = ""
    meetings: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    lobby: dict[str, str] = field(default_factory=dict)
    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)

    def application(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1.0/users/{user}/onlineMeetings/createOrGet", self._create_or_get)
        app.router.add_patch("/v1.0/users/{user}/onlineMeetings/{meeting}", self._patch)
        return app

    def _refuse(self, request: web.Request) -> web.Response | None:
        self.requests.append((request.method, request.path))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response(
                {"error": {"code": "InvalidAuthenticationToken", "message": "Access token is empty or invalid."}},
                status=401,
            )
        if self.failures:
            status, headers = self.failures.pop(0)
            return web.json_response(
                {"error": {"code": "TooManyRequests", "message": "x"}}, status=status, headers=headers
            )
        return None

    async def _create_or_get(self, request: web.Request) -> web.Response:
        refused = self._refuse(request)
        if refused:
            return refused
        body = await request.json()
        missing = [name for name in ("externalId", "startDateTime", "endDateTime") if not body.get(name)]
        if missing:
            return web.json_response(
                {"error": {"code": "BadRequest", "message": f"Missing {', '.join(missing)}"}}, status=400
            )
        key = (request.match_info["user"], body["externalId"])
        if key in self.meetings:
            return web.json_response(self.meetings[key], status=200)
        meeting_id = "MSo" + uuid.uuid4().hex
        meeting = {
            "id": meeting_id,
            "externalId": body["externalId"],
            "subject": body.get("subject"),
            "startDateTime": body["startDateTime"],
            "endDateTime": body["endDateTime"],
            "joinWebUrl": f"https://teams.microsoft.com/l/meetup-join/19%3ameeting_{meeting_id}%40thread.v2/0"
            "?context=%7b%7d",
        }
        self.meetings[key] = meeting
        return web.json_response(meeting, status=201)

    async def _patch(self, request: web.Request) -> web.Response:
        refused = self._refuse(request)
        if refused:
            return refused
        body = await request.json()
        scope = (body.get("lobbyBypassSettings") or {}).get("scope")
        if scope not in {"organizer", "organization", "organizationAndFederated", "everyone", "invited"}:
            return web.json_response({"error": {"code": "BadRequest", "message": "lobbyBypassSettings"}}, status=400)
        meeting_id = request.match_info["meeting"]
        found = next(
            (
                m
                for (user, _), m in self.meetings.items()
                if m["id"] == meeting_id and user == request.match_info["user"]
            ),
            None,
        )
        if found is None:
            return web.json_response({"error": {"code": "NotFound", "message": "meeting"}}, status=404)
        self.lobby[meeting_id] = scope
        return web.json_response({**found, "lobbyBypassSettings": body["lobbyBypassSettings"]})
