"""A loopback stand-in for the Microsoft Graph online-meetings API that checks what Graph checks: the bearer
token, the organizer in the path (403 for a user outside the application access policy, when one is set),
createOrGet's required fields (externalId, startDateTime, endDateTime), idempotency per organizer and
externalId (201 then 200), the lobby PATCH body, subscriptions (meeting call events on beta, call records on
v1.0) with their validation handshake, and call records read with $select or with their sessions and segments,
paged with next links, and the Virtual Appointment join URL of a meeting, which Graph serves only to a delegated
token of the meeting's organizer with VirtualAppointment.Read (or an OnlineMeetings permission): the app's own
token gets 403, as application permissions are not supported. Failures can be scripted (e.g. 429 with
Retry-After)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web
from aiohttp.typedefs import Handler

from shared.core.usage import call_name, usage
from tests.support.notifications import change_notification

MAX_SUBSCRIPTION = timedelta(minutes=4230)  # Graph's limit for call-event subscriptions (about 3 days)


@dataclass(frozen=True)
class Exchange:
    """A request to the stub and its answer, as JSON: what tests/contracts holds to Graph's own description."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int
    answer: Any


@web.middleware
async def _counted(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every request Graph would bill or throttle, in the usage counts (when they are on)."""
    usage.record("graph", call_name(request.method, request.path))
    return await handler(request)


@dataclass
class GraphStub:
    token: str
    url: str = ""
    meetings: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    lobby: dict[str, str] = field(default_factory=dict)
    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    call_records: dict[str, dict[str, Any]] = field(default_factory=dict)
    record_reads: list[str] = field(default_factory=list)
    sessions_page: int = 2  # sessions per page of a call record, as Graph pages them (at 60)
    access_policy: set[str] | None = None
    audio_conferencing: dict[str, str] | None = None
    """What new meetings' `audioConferencing` says (their organizer has audio conferencing); None: absent."""
    """The users a Teams application access policy lets the app organise meetings for; None: everyone."""
    delegated: dict[str, dict[str, str]] = field(default_factory=dict)
    """Delegated access tokens Entra ID issued -> their claims (tid, oid, scp): the Entra stub's."""
    virtual_appointment_reads: list[str] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    """The change-notification collections the stub delivered."""

    def application(self) -> web.Application:
        app = web.Application(middlewares=[_counted, self._record])
        app.router.add_post("/v1.0/users/{user}/onlineMeetings/createOrGet", self._create_or_get)
        app.router.add_patch("/v1.0/users/{user}/onlineMeetings/{meeting}", self._patch)
        app.router.add_get(
            "/v1.0/users/{user}/onlineMeetings/{meeting}/getVirtualAppointmentJoinWebUrl", self._virtual_appointment
        )
        app.router.add_post("/beta/subscriptions", self._subscribe)
        app.router.add_post("/v1.0/subscriptions", self._subscribe)
        app.router.add_get("/v1.0/communications/callRecords/{id}", self._call_record)
        app.router.add_get("/v1.0/communications/callRecords/{id}/sessions", self._sessions)
        app.router.add_patch("/beta/subscriptions/{id}", self._renew)
        app.router.add_patch("/v1.0/subscriptions/{id}", self._renew)
        return app

    @web.middleware
    async def _record(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        raw = await request.read()
        response = await handler(request)
        body = response.body if isinstance(response, web.Response) else None
        answer = json.loads(body) if isinstance(body, bytes) and response.content_type == "application/json" else None
        self.exchanges.append(
            Exchange(
                request.method,
                request.path,
                dict(request.query),
                json.loads(raw) if raw else None,
                response.status,
                answer,
            )
        )
        return response

    def meeting_subscriptions(self) -> set[str]:
        """The IDs of the meetings' call-event subscriptions (not the tenant's call-records one)."""
        return {k for k, v in self.subscriptions.items() if str(v["resource"]).endswith("/meetingCallEvents")}

    async def _subscribe(self, request: web.Request) -> web.Response:
        """As Graph does: required fields, an expiry within the resource's limit, then the validation handshake
        (the notification URL must echo the token as text/plain with 200) before the subscription exists."""
        refused = self._refuse(request)
        if refused:
            return refused
        body = await request.json()
        missing = [k for k in ("changeType", "notificationUrl", "resource", "expirationDateTime") if not body.get(k)]
        beta = request.path.startswith("/beta/")
        resource = str(body.get("resource") or "")
        known = (
            resource.endswith("/meetingCallEvents")
            if beta
            else resource.strip("/") == "communications/callRecords" and body.get("changeType") == "created"
        )
        if missing or len(body.get("clientState") or "") > 128 or not known:
            return self._bad(f"invalid subscription ({', '.join(missing) or 'clientState or resource'})")
        try:
            expires = datetime.fromisoformat(str(body["expirationDateTime"]).replace("Z", "+00:00"))
        except ValueError:
            return self._bad("expirationDateTime is not a date")
        if expires.tzinfo is None or not datetime.now(UTC) < expires <= datetime.now(UTC) + MAX_SUBSCRIPTION:
            return self._bad("expirationDateTime is out of range")
        if not await self._validated(body["notificationUrl"]):
            return self._bad("Subscription validation request failed. Response must exactly match validationToken.")
        subscription_id = str(uuid.uuid4())
        self.subscriptions[subscription_id] = {**body, "id": subscription_id}
        return web.json_response(self.subscriptions[subscription_id], status=201)

    async def _renew(self, request: web.Request) -> web.Response:
        refused = self._refuse(request)
        if refused:
            return refused
        found = self.subscriptions.get(request.match_info["id"])
        if found is None:
            return web.json_response({"error": {"code": "ResourceNotFound", "message": "subscription"}}, status=404)
        body = await request.json()
        if "notificationUrl" in body:  # Graph validates a new URL as on creation
            if not await self._validated(body["notificationUrl"]):
                return self._bad("Subscription validation request failed. Response must exactly match validationToken.")
            found["notificationUrl"] = body["notificationUrl"]
        found["expirationDateTime"] = body["expirationDateTime"]
        return web.json_response(found)

    @staticmethod
    async def _validated(url: str) -> bool:
        """Graph's validation handshake: the URL must echo the token as text/plain with 200."""
        token = f"Validation: {uuid.uuid4()}"
        try:
            async with (
                ClientSession() as session,
                session.post(url, params={"validationToken": token}, timeout=ClientTimeout(total=10)) as answer,
            ):
                echoed = await answer.text() if answer.status == 200 else None
                plain = answer.headers.get("Content-Type", "").startswith("text/plain")
        except (OSError, TimeoutError):
            echoed, plain = None, False
        return echoed == token and plain

    async def notify(
        self,
        subscription_id: str,
        data: dict[str, Any],
        client_state: str | None = None,
        notification_id: str | None = None,
        tenant_id: str | None = None,
    ) -> int:
        """Deliver a notification as Graph would (the same ID again for a redelivery; `tenant_id`: the tenant whose
        resource changed, a random one when None); the webhook's status."""
        subscription = self.subscriptions[subscription_id]
        notification = change_notification(
            subscription_id=subscription_id,
            client_state=str(subscription.get("clientState")) if client_state is None else client_state,
            change_type=subscription["changeType"],  # as subscribed: `created` for call records
            resource=subscription["resource"],
            expires=subscription["expirationDateTime"],
            data=data,
            notification_id=notification_id,
            tenant_id=tenant_id,
        )
        self.notifications.append({"value": [notification]})
        async with (
            ClientSession() as session,
            session.post(subscription["notificationUrl"], json={"value": [notification]}) as answer,
        ):
            return answer.status

    async def _call_record(self, request: web.Request) -> web.Response:
        """As Graph answers: $select narrows the record; $expand=sessions($expand=segments) adds its sessions, a
        page of them with a next link when there are more."""
        refused = self._refuse(request)
        if refused:
            return refused
        record_id = request.match_info["id"]
        self.record_reads.append(f"{record_id}?{request.query_string}")
        record = self.call_records.get(record_id)
        if record is None:
            return web.json_response({"error": {"code": "NotFound", "message": "callRecord"}}, status=404)
        answer = {k: v for k, v in record.items() if k != "sessions"}
        if "$select" in request.query:
            chosen = set(request.query["$select"].split(","))
            answer = {k: v for k, v in answer.items() if k in chosen}
        if request.query.get("$expand") == "sessions($expand=segments)":
            answer["sessions"] = record["sessions"][: self.sessions_page]
            if len(record["sessions"]) > self.sessions_page:
                answer["sessions@odata.nextLink"] = self._sessions_link(record_id, self.sessions_page)
        return web.json_response(answer)

    def _sessions_link(self, record_id: str, skip: int) -> str:
        return f"{self.url}/v1.0/communications/callRecords/{record_id}/sessions?$expand=segments&$skiptoken={skip}"

    async def _sessions(self, request: web.Request) -> web.Response:
        refused = self._refuse(request)
        if refused:
            return refused
        record = self.call_records.get(request.match_info["id"])
        if record is None:
            return web.json_response({"error": {"code": "NotFound", "message": "callRecord"}}, status=404)
        skip = int(request.query.get("$skiptoken", "0"))
        page: dict[str, Any] = {"value": record["sessions"][skip : skip + self.sessions_page]}
        if len(record["sessions"]) > skip + self.sessions_page:
            page["@odata.nextLink"] = self._sessions_link(request.match_info["id"], skip + self.sessions_page)
        return web.json_response(page)

    @staticmethod
    def _bad(message: str) -> web.Response:
        return web.json_response({"error": {"code": "InvalidRequest", "message": message}}, status=400)

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
        if self.access_policy is not None and request.match_info["user"] not in self.access_policy:
            return web.json_response(
                {
                    "error": {
                        "code": "Forbidden",
                        "message": "Application is not allowed to perform operations on the user, neither is "
                        "allowed access through RSC permission evaluation.",
                    }
                },
                status=403,
            )
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
        if self.audio_conferencing is not None:
            meeting["audioConferencing"] = self.audio_conferencing
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

    async def _virtual_appointment(self, request: web.Request) -> web.Response:
        """`GET .../getVirtualAppointmentJoinWebUrl`: an Edm.String answer, for the organizer's delegated token."""
        self.requests.append((request.method, request.path))
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token == self.token:
            return web.json_response(
                {"error": {"code": "Forbidden", "message": "Application permissions are not supported."}}, status=403
            )
        claims = self.delegated.get(token)
        if claims is None:
            return web.json_response(
                {"error": {"code": "InvalidAuthenticationToken", "message": "Access token is empty or invalid."}},
                status=401,
            )
        allowed = {"VirtualAppointment.Read", "VirtualAppointment.ReadWrite", "OnlineMeetings.Read"}
        if not allowed & set(claims.get("scp", "").split()):
            return web.json_response({"error": {"code": "Forbidden", "message": "Missing scope."}}, status=403)
        user, meeting_id = request.match_info["user"], request.match_info["meeting"]
        found = next((m for (u, _), m in self.meetings.items() if m["id"] == meeting_id and u == user), None)
        if claims.get("oid") != user or found is None:
            return web.json_response({"error": {"code": "NotFound", "message": "meeting"}}, status=404)
        self.virtual_appointment_reads.append(meeting_id)
        value = f"https://visit.teams.microsoft.com/webrtc-svc/api/route?tid={claims['tid']}&convId={meeting_id}"
        return web.json_response(
            {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Edm.String", "value": value}
        )
