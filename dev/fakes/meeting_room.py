"""The local meeting provider's meeting page, served by the dev host at /dev/meetings/{id}: clinicians join at
once; guests (patients, interpreters) wait in the lobby until a clinician admits them. State is in memory.

Like Teams through Graph, the page posts change notifications to each subscription of the meeting (with its
clientState): call started and ended, roster updates (clinicians as users of the organisation's tenant, guests
as guests), and the lobby events Teams does not send (entered, admitted). When a call ends it keeps a call record
(loopback figures: no media flows here) and notifies the call-records subscription, as Teams does.
"""

from __future__ import annotations

import dataclasses
import html
import logging
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web

from shared.visits.providers.local import (
    LOCAL_CALL_RECORDS,
    LOCAL_SUBSCRIPTIONS,
    LocalCallRecords,
    LocalSubscription,
    LocalSubscriptions,
)

log = logging.getLogger(__name__)
ROLES = ("clinician", "guest")


@dataclass
class _Participant:
    id: str
    role: str
    admitted: bool


@dataclass
class _Room:
    participants: dict[str, _Participant] = field(default_factory=dict)
    call_active: bool = False
    call_started: datetime | None = None
    attended: dict[str, _Participant] = field(default_factory=dict)  # this call's, for its call record


# The loopback's stream figures: no media flows through the dev meeting page, so its call records say so.
LOOPBACK_STREAM = {
    "averageJitter": "PT0.001S",
    "maxJitter": "PT0.002S",
    "averagePacketLossRate": 0.0,
    "maxPacketLossRate": 0.0,
    "averageRoundTripTime": "PT0.001S",
    "maxRoundTripTime": "PT0.002S",
    "averageAudioDegradation": 0.0,
    "packetUtilization": 1000,
}


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _identity(participant: _Participant, subscription: LocalSubscription) -> dict[str, Any]:
    if participant.role == "clinician":
        identity = {"User": {"Id": participant.id, "TenantId": subscription.tenant_id}}
    else:
        identity = {"Guest": {"Id": participant.id}}
    return {"Id": participant.id, "Identity": identity}


NO_TENANT = str(uuid.UUID(int=0))  # a notification's tenantId is a GUID; a call nobody subscribed for has none


def _record_identity(participant: _Participant, tenant: str) -> dict[str, Any]:
    """A call record's communicationsIdentitySet, each member named by its @odata.type as Graph answers."""
    if participant.role == "clinician":
        user = {"@odata.type": "#microsoft.graph.communicationsUserIdentity", "id": participant.id, "tenantId": tenant}
        return {"@odata.type": "#microsoft.graph.communicationsIdentitySet", "user": user}
    guest = {"@odata.type": "#microsoft.graph.communicationsGuestIdentity", "id": participant.id}
    return {"@odata.type": "#microsoft.graph.communicationsIdentitySet", "guest": guest}


class MeetingRooms:
    def __init__(
        self, subscriptions: LocalSubscriptions = LOCAL_SUBSCRIPTIONS, records: LocalCallRecords = LOCAL_CALL_RECORDS
    ) -> None:
        self._rooms: dict[str, _Room] = {}
        self._subscriptions = subscriptions
        self._records = records

    async def _record_call(self, room_id: str, room: _Room) -> None:
        """The ended call's record, as Teams keeps one, and its notification to the call-records subscription."""
        meeting = self._records.meetings.get(room_id)
        subscription = self._records.subscription
        if meeting is None or room.call_started is None:
            return
        record_id = str(uuid.uuid4())
        tenant = next(iter(s.tenant_id for s in self._subscriptions.for_meeting(room_id)), "")
        sessions = []
        for participant in room.attended.values():
            caller = {
                "@odata.type": "#microsoft.graph.callRecords.participantEndpoint",
                "identity": _record_identity(participant, tenant),
            }
            media = [{"label": "main-audio", "streams": [LOOPBACK_STREAM, LOOPBACK_STREAM]}]
            segment = {"id": str(uuid.uuid4()), "caller": caller, "callee": {}, "media": media}
            sessions.append({"id": str(uuid.uuid4()), "caller": caller, "segments": [segment]})
        self._records.records[record_id] = {
            "id": record_id,
            "type": "groupCall",
            "joinWebUrl": meeting[0],
            "startDateTime": _iso(room.call_started),
            "endDateTime": _iso(datetime.now(UTC)),
            "sessions": sessions,
        }
        room.attended.clear()
        if subscription is None:
            return
        notification = {
            "subscriptionId": subscription.id,
            "subscriptionExpirationDateTime": _iso(subscription.expires_at),
            "tenantId": tenant or NO_TENANT,
            "clientState": subscription.client_state,
            "changeType": "created",
            "resource": f"communications/callRecords/{record_id}",
            "resourceData": {"id": record_id, "@odata.type": "#microsoft.graph.callrecord"},
        }
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
                session.post(subscription.notification_url, json={"value": [notification]}) as answer,
            ):
                if answer.status >= 300:
                    log.warning("Call record of room %s answered %d", room_id, answer.status)
        except aiohttp.ClientError as failure:
            log.warning("Call record of room %s not delivered: %s", room_id, failure)

    async def _emit(
        self,
        room: str,
        event: str,
        *,
        joined: Sequence[_Participant] = (),
        exited: Sequence[_Participant] = (),
    ) -> None:
        """Post one notification to every subscription of the room's meeting, as Graph would."""
        subscriptions = self._subscriptions.for_meeting(room)
        if not subscriptions:
            return
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            for subscription in subscriptions:
                data: dict[str, Any] = {"eventType": f"Microsoft.Communication.{event}", "eventDateTime": now}
                if event == "CallRosterUpdate":
                    data["activeParticipants@joined"] = [_identity(p, subscription) for p in joined]
                    data["activeParticipants@exited"] = [_identity(p, subscription) for p in exited]
                elif joined:
                    data["participant"] = _identity(joined[0], subscription)
                notification = {
                    "id": str(uuid.uuid4()),
                    "subscriptionId": subscription.id,
                    "subscriptionExpirationDateTime": _iso(subscription.expires_at),
                    "tenantId": subscription.tenant_id,
                    "clientState": subscription.client_state,
                    "changeType": "updated",
                    "resource": f"communications/onlineMeetings/{room}/meetingCallEvents",
                    "resourceData": data,
                }
                try:
                    async with session.post(subscription.notification_url, json={"value": [notification]}) as answer:
                        if answer.status >= 300:
                            log.warning("Meeting event %s for room %s answered %d", event, room, answer.status)
                except aiohttp.ClientError as failure:
                    log.warning("Meeting event %s for room %s not delivered: %s", event, room, failure)

    async def _enter(self, room_id: str, room: _Room, participant: _Participant) -> None:
        room.attended[participant.id] = participant
        if not room.call_active:
            room.call_active = True
            room.call_started = datetime.now(UTC)
            await self._emit(room_id, "CallStarted")
        await self._emit(room_id, "CallRosterUpdate", joined=[participant])

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/dev/meetings/{room}", self._page),
            web.post("/dev/meetings/{room}/join", self._join),
            web.post("/dev/meetings/{room}/admit", self._admit),
            web.post("/dev/meetings/{room}/leave", self._leave),
            web.get("/dev/meetings/{room}/state", self._state),
        ]

    def _room(self, request: web.Request) -> _Room:
        return self._rooms.setdefault(request.match_info["room"], _Room())

    async def _join(self, request: web.Request) -> web.Response:
        role = (await request.json()).get("role")
        if role not in ROLES:
            return web.json_response({"error": "role must be clinician or guest"}, status=400)
        participant = _Participant(secrets.token_hex(4), role, admitted=role == "clinician")
        room = self._room(request)
        room.participants[participant.id] = participant
        if participant.admitted:
            await self._enter(request.match_info["room"], room, participant)
        else:
            await self._emit(request.match_info["room"], "LobbyEntered", joined=[participant])
        return web.json_response({"id": participant.id, "admitted": participant.admitted})

    async def _admit(self, request: web.Request) -> web.Response:
        body = await request.json()
        room = self._room(request)
        admitter = room.participants.get(str(body.get("by")))
        target = room.participants.get(str(body.get("participant")))
        if admitter is None or admitter.role != "clinician" or target is None:
            return web.json_response({"error": "only a clinician in the meeting can admit"}, status=403)
        if not target.admitted:
            target.admitted = True
            await self._emit(request.match_info["room"], "LobbyAdmitted", joined=[target])
            await self._enter(request.match_info["room"], room, target)
        return web.json_response({"admitted": target.id})

    async def _leave(self, request: web.Request) -> web.Response:
        body = await request.json()
        room = self._room(request)
        gone = room.participants.pop(str(body.get("id")), None)
        if gone is not None and gone.admitted:
            await self._emit(request.match_info["room"], "CallRosterUpdate", exited=[gone])
            if room.call_active and not any(p.admitted for p in room.participants.values()):
                room.call_active = False
                await self._emit(request.match_info["room"], "CallEnded")
                await self._record_call(request.match_info["room"], room)
        return web.Response(status=204)

    async def _state(self, request: web.Request) -> web.Response:
        room, room_id = self._room(request), request.match_info["room"]
        return web.json_response(
            {
                "in_meeting": [{"id": p.id, "role": p.role} for p in room.participants.values() if p.admitted],
                "lobby": [{"id": p.id, "role": p.role} for p in room.participants.values() if not p.admitted],
                "organizer": (self._records.meetings.get(request.match_info["room"]) or ("", None))[1],
                "dial_in": dataclasses.asdict(dial_in) if (dial_in := self._records.dial_ins.get(room_id)) else None,
            }
        )

    async def _page(self, request: web.Request) -> web.Response:
        role = request.query.get("role", "guest")
        role = role if role in ROLES else "guest"
        room = html.escape(request.match_info["room"])
        door = (
            "Joined through a Teams Virtual Appointment link (in Teams: the phone's browser, the virtual lobby)."
            if request.query.get("via") == "virtual-appointment"
            else ""
        )
        page = PAGE.replace("__ROOM__", room).replace("__ROLE__", role).replace("__DOOR__", door)
        return web.Response(text=page, content_type="text/html", headers={"Cache-Control": "no-store"})


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Virtual visit (local meeting)</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
li{margin:.3rem 0}button{font:inherit;padding:.3rem .8rem}.note{color:#555}</style></head>
<body><main>
<h1>Virtual visit</h1>
<p class="note">Local meeting (development): stands in for Microsoft Teams when MEETING_PROVIDER=local. __DOOR__</p>
<p id="status" role="status">Joining&hellip;</p>
<h2>In the meeting</h2><ul id="in"></ul>
<h2>Lobby</h2><ul id="lobby"></ul>
</main>
<script>
const room = "__ROOM__", role = "__ROLE__", base = `/dev/meetings/${room}`;
let me = null;
const post = (path, body) => fetch(base + path, {method: "POST", headers: {"Content-Type": "application/json"},
  body: JSON.stringify(body)}).then(r => r.status === 204 ? null : r.json());
function render(state) {
  const admitted = state.in_meeting.some(p => p.id === me);
  document.getElementById("status").textContent = admitted
    ? `You are in the meeting (${role}).`
    : "You are in the lobby. Someone will let you in soon.";
  const list = (id, people, admit) => {
    const ul = document.getElementById(id); ul.replaceChildren();
    for (const p of people) {
      const li = document.createElement("li");
      li.textContent = `${p.role}${p.id === me ? " (you)" : ""} `;
      if (admit && role === "clinician" && admitted) {
        const b = document.createElement("button"); b.textContent = "Admit";
        b.setAttribute("aria-label", `Admit ${p.role} ${p.id}`);
        b.onclick = () => post("/admit", {by: me, participant: p.id}).then(poll);
        li.append(b);
      }
      ul.append(li);
    }
  };
  list("in", state.in_meeting, false); list("lobby", state.lobby, true);
}
const poll = () => fetch(base + "/state").then(r => r.json()).then(render);
post("/join", {role}).then(j => { me = j.id; poll(); setInterval(poll, 1500); });
addEventListener("pagehide", () => navigator.sendBeacon && me &&
  navigator.sendBeacon(base + "/leave", new Blob([JSON.stringify({id: me})], {type: "application/json"})));
</script></body></html>
"""
