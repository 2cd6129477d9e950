"""The sandbox EHR's writeback receivers, checked as a real EHR would check them, and recorded so that tests
and `make run` show them:

- `GET|PUT /fhir/Appointment/{id}`: the sample appointments, versioned (`meta.versionId`, `ETag`), a `PUT`
  honouring `If-Match` (412 when stale) and allowing only FHIR appointment and participant statuses; the
  patient participant starts as `needs-action` until the patient confirms;
- `POST /fhir/AuditEvent`: required elements of an R4 AuditEvent (type, recorded, agent with requestor,
  source.observer) and an entity that names an Appointment this server has;
- `POST {epic path}`: Epic's telehealth connection status (ConferenceID, ExternalID, VendorName,
  ConnectionStatus), at the default path and at any path a test adds;
- each needs a backend-services bearer token the sandbox issued; `fail_next` makes the next calls answer with
  the given statuses (503 for an outage, 401 for a revoked token); `outage(seconds)` answers every call 503
  for that long, as a receiver that is down;
- `GET /_sandbox/writebacks` lists what was recorded, and `/ehr/writebacks` shows it as a page.
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

APPOINTMENT_STATUSES = frozenset(
    {
        "proposed",
        "pending",
        "booked",
        "arrived",
        "fulfilled",
        "cancelled",
        "noshow",
        "entered-in-error",
        "checked-in",
        "waitlist",
    }
)
PARTICIPANT_STATUSES = frozenset({"accepted", "declined", "tentative", "needs-action"})
CONNECTION_STATUSES = frozenset({"Connected", "Disconnected"})
EPIC_PATH = "/api/epic/2019/Telehealth/External/SetExternalConnectionStatus"


@dataclass
class Writeback:
    kind: str  # connection_status, audit_event, appointment_status, participant_status
    at: datetime
    client_id: str
    body: dict[str, Any]


@dataclass
class SandboxWritebacks:
    tokens: dict[str, str]  # the EHR's issued backend tokens: access token -> client ID
    appointment_ids: Iterable[str] = ()
    recorded: list[Writeback] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)
    requests: int = 0
    down_until: float = 0.0  # time.monotonic() until which every call is refused (an outage)
    refused_while_down: int = 0
    epic_paths: set[str] = field(default_factory=lambda: {EPIC_PATH})

    def __post_init__(self) -> None:
        self.appointments: dict[str, dict[str, Any]] = {}
        for appointment_id in self.appointment_ids:
            self.reset_appointment(appointment_id)

    def reset_appointment(self, appointment_id: str, status: str = "booked") -> None:
        self.appointments[appointment_id] = {
            "resourceType": "Appointment",
            "id": appointment_id,
            "meta": {"versionId": "1"},
            "status": status,
            "participant": [{"status": "needs-action", "actor": {"reference": f"Patient/{appointment_id}"}}],
        }

    def outage(self, seconds: float) -> None:
        """The receivers are down for `seconds` from now: every call answers 503."""
        self.down_until = time.monotonic() + seconds

    def of_kind(self, kind: str) -> list[Writeback]:
        return [w for w in self.recorded if w.kind == kind]

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/fhir/Appointment/{id}", self._read_appointment),
            web.put("/fhir/Appointment/{id}", self._update_appointment),
            web.post("/fhir/AuditEvent", self._audit_event),
            web.post("/{path:api/epic/.+}", self._connection_status),
            web.get("/_sandbox/writebacks", self._list),
            web.get("/ehr/writebacks", self._page),
        ]

    def _authorise(self, request: web.Request) -> str | web.Response:
        """The client ID of the call's bearer token; or the answer a real EHR gives instead."""
        self.requests += 1
        if time.monotonic() < self.down_until:
            self.refused_while_down += 1
            return web.json_response(_outcome("the EHR's interface is down"), status=503)
        if self.fail_next:
            status = self.fail_next.pop(0)
            headers = {"Retry-After": "0"} if status in (429, 503) else {}
            return web.json_response(_outcome(f"unavailable ({status})"), status=status, headers=headers)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        client = self.tokens.get(token) if scheme.lower() == "bearer" else None
        if client is None:
            return web.json_response(
                _outcome("unknown or expired access token"),
                status=401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return client

    def _appointment(self, request: web.Request) -> tuple[str, dict[str, Any]] | web.Response:
        """The caller's client ID and the Appointment the path names; or the EHR's answer instead."""
        client = self._authorise(request)
        if isinstance(client, web.Response):
            return client
        resource = self.appointments.get(request.match_info["id"])
        if resource is None:
            return web.json_response(_outcome("no such Appointment"), status=404)
        return client, resource

    async def _read_appointment(self, request: web.Request) -> web.Response:
        found = self._appointment(request)
        if isinstance(found, web.Response):
            return found
        _, resource = found
        return web.json_response(resource, headers={"ETag": f'W/"{resource["meta"]["versionId"]}"'})

    async def _update_appointment(self, request: web.Request) -> web.Response:
        found = self._appointment(request)
        if isinstance(found, web.Response):
            return found
        client, current = found
        version = current["meta"]["versionId"]
        if request.headers.get("If-Match") not in (None, f'W/"{version}"'):
            return web.json_response(_outcome("version conflict"), status=412)
        body = await request.json()
        if body.get("resourceType") != "Appointment" or body.get("id") != current["id"]:
            return web.json_response(_outcome("the body is not this Appointment"), status=400)
        if body.get("status") not in APPOINTMENT_STATUSES:
            return web.json_response(_outcome("status is not an Appointment status"), status=400)
        participants = body.get("participant")
        if not isinstance(participants, list) or not all(
            isinstance(p, dict) and p.get("status") in PARTICIPANT_STATUSES for p in participants
        ):
            return web.json_response(_outcome("every participant needs a participant status"), status=400)
        updated = {**body, "meta": {"versionId": str(int(version) + 1)}}
        self.appointments[current["id"]] = updated
        now = datetime.now(UTC)
        if body["status"] != current["status"]:
            self.recorded.append(
                Writeback("appointment_status", now, client, {"id": current["id"], "status": body["status"]})
            )
        before = {_actor(p): p.get("status") for p in current.get("participant") or []}
        for participant in participants:
            if before.get(_actor(participant)) != participant["status"]:
                answer = {"id": current["id"], "actor": _actor(participant), "status": participant["status"]}
                answer["if_match"] = request.headers.get("If-Match")  # shown: the write named the version it read
                self.recorded.append(Writeback("participant_status", now, client, answer))
        return web.json_response(updated, headers={"ETag": f'W/"{updated["meta"]["versionId"]}"'})

    async def _audit_event(self, request: web.Request) -> web.Response:
        client = self._authorise(request)
        if isinstance(client, web.Response):
            return client
        body = await request.json()
        problems = _audit_problems(body, self.appointments)
        if problems:
            return web.json_response(_outcome("; ".join(problems)), status=400)
        self.recorded.append(Writeback("audit_event", datetime.now(UTC), client, body))
        return web.json_response({**body, "id": str(len(self.recorded))}, status=201)

    async def _connection_status(self, request: web.Request) -> web.Response:
        if "/" + request.match_info["path"] not in self.epic_paths:
            self.requests += 1
            return web.json_response({"Message": "No such web service"}, status=404)
        client = self._authorise(request)
        if isinstance(client, web.Response):
            return client
        if request.headers.get("Epic-Client-ID") != client:
            return web.json_response({"Message": "Epic-Client-ID is missing or not this client"}, status=400)
        body = await request.json()
        missing = [k for k in ("ConferenceID", "ExternalID", "VendorName", "ConnectionStatus") if not body.get(k)]
        if missing or body["ConnectionStatus"] not in CONNECTION_STATUSES:
            return web.json_response({"Message": f"Invalid request: {missing or 'ConnectionStatus'}"}, status=400)
        self.recorded.append(Writeback("connection_status", datetime.now(UTC), client, body))
        return web.json_response({"Success": True})

    def summary(self) -> list[dict[str, Any]]:
        return [
            {"kind": w.kind, "at": w.at.isoformat(), "client_id": w.client_id, "body": w.body} for w in self.recorded
        ]

    async def _list(self, request: web.Request) -> web.Response:
        return web.json_response({"items": self.summary()})

    async def _page(self, request: web.Request) -> web.Response:
        rows = "".join(
            f"<tr><td>{w.at:%H:%M:%S}</td><td>{html.escape(w.kind)}</td><td><code>"
            f"{html.escape(_describe(w))}</code></td></tr>"
            for w in reversed(self.recorded)
        )
        page = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Sandbox EHR: writebacks</title>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<meta http-equiv='refresh' content='5'>"
            "<style>body{font-family:system-ui;margin:2rem}td,th{padding:.3rem .6rem;text-align:left}</style></head>"
            "<body><h1>Writebacks received from the connector</h1>"
            "<table><thead><tr><th>Time (UTC)</th><th>Kind</th><th>What</th></tr></thead>"
            f"<tbody>{rows or '<tr><td colspan=3>None yet.</td></tr>'}</tbody></table></body></html>"
        )
        return web.Response(text=page, content_type="text/html")


def _describe(writeback: Writeback) -> str:
    body = writeback.body
    if writeback.kind == "connection_status":
        return f"{body['ConferenceID']}: {body['ExternalID'][:8]} {body['ConnectionStatus']}"
    if writeback.kind == "audit_event":
        return f"{body['entity'][0]['what']['reference']}: {body['subtype'][0]['display']} ({body['outcomeDesc']})"
    if writeback.kind == "participant_status":
        return f"Appointment/{body['id']} participant {body['actor']} -> {body['status']}"
    return f"Appointment/{body['id']} -> {body['status']}"


def _actor(participant: dict[str, Any]) -> str:
    return str((participant.get("actor") or {}).get("reference") or "")


def _audit_problems(body: Any, appointments: dict[str, Any]) -> list[str]:
    if not isinstance(body, dict) or body.get("resourceType") != "AuditEvent":
        return ["resourceType must be AuditEvent"]
    problems = [f"{name} is required" for name in ("type", "recorded", "agent", "source") if not body.get(name)]
    if not all(isinstance(a, dict) and isinstance(a.get("requestor"), bool) for a in body.get("agent") or []):
        problems.append("every agent needs requestor")
    if not (body.get("source") or {}).get("observer"):
        problems.append("source.observer is required")
    references = [(e.get("what") or {}).get("reference", "") for e in body.get("entity") or []]
    if not any(r.startswith("Appointment/") and r.split("/", 1)[1] in appointments for r in references):
        problems.append("entity must reference a known Appointment")
    return problems


def _outcome(text: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "processing", "diagnostics": text}],
    }
