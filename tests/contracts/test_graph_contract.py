"""Our Microsoft Graph traffic held to Graph's own v1.0 description (`graph_v1_extract.json`, from the CSDL the
SDKs are generated from): the real provider drives a visit against the Graph stub, and every path and method it
called, every body it sent and every answer and change notification the stub gave must be what Graph declares.
The meeting page of `make run` (dev/fakes/meeting_room.py) plays Graph too, and is held to the same description.

What the v1.0 description cannot check: the meetings' call events are a beta resource
(`communications/onlineMeetings(joinWebUrl='...')/meetingCallEvents`) that no published metadata describes, so
their subscription's body and path are checked as a v1.0 subscription, and their resourceData not at all."""

from __future__ import annotations

import ast
import dataclasses
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from dev.fakes.meeting_room import MeetingRooms
from dev.fakes.sandbox_ehr import SAMPLE_APPOINTMENTS, SandboxEhr
from dev.host.serving import ServerThread
from shared.runtime import get_runtime
from shared.visits.models import appointment_key
from shared.visits.providers import MeetingRequest
from shared.visits.providers.local import LocalCallRecords, LocalMeetingProvider, LocalSubscriptions
from tests.conftest import ROOT, AppHost, GraphMeetings
from tests.contracts.graph_model import GraphModel, Step, graph_v1
from tests.support.call_records import guest, session, stream, user
from tests.support.clock import FakeClock
from tests.support.entra_stub import EntraStub
from tests.support.graph_stub import Exchange
from tests.support.portal import Tenant, approved_endpoint
from tests.support.visits import signed_in_launch
from tests.support.writeback import PATIENT, clinician, roster

FOLLOW_UP = SAMPLE_APPOINTMENTS[0]
NOTIFICATIONS = "microsoft.graph.changeNotificationCollection"

# Where the connector reads Graph's JSON, and the types it reads there.
READERS = {
    "shared/visits/providers/graph.py": ["microsoft.graph.onlineMeeting", "microsoft.graph.subscription"],
    "shared/visits/providers/graph_records.py": [
        "microsoft.graph.callRecords.callRecord",
        "microsoft.graph.subscription",
    ],
    "shared/writeback/call_records.py": [NOTIFICATIONS, "microsoft.graph.callRecords.callRecord"],
    "shared/writeback/call_quality.py": ["microsoft.graph.callRecords.callRecord"],
    "shared/writeback/meeting_events.py": [NOTIFICATIONS],
}
# The segments of our paths that are names, not keys (for the list of what was called).
NAMES = {"", "v1.0", "beta", "users", "onlineMeetings", "createOrGet", "subscriptions", "communications"}
NAMES |= {"callRecords", "sessions", "getVirtualAppointmentJoinWebUrl"}
# Not properties: the parts of an ISO 8601 duration call_quality.milliseconds parsed, a collection page's items.
NOT_GRAPH = {"d", "h", "m", "s", "value"}


@pytest.fixture
def traffic(
    app: AppHost,
    http: httpx.Client,
    tenant: Tenant,
    ehr: SandboxEhr,
    graph_meetings: GraphMeetings,
    entra_id: EntraStub,
) -> list[Exchange]:
    """A visit's Graph traffic, from the real provider: the meeting (createOrGet, lobby, its Virtual Appointment
    join URL with the clinician's delegated token), its events' subscription and renewal, a notification; the call
    records' subscription (made, renewed, made again once Graph let it go), a record's notification, then the record
    read narrowed and whole, its sessions over a next link."""
    stub, provider = graph_meetings.stub, graph_meetings.provider
    stub.exchanges.clear()
    stub.notifications.clear()
    endpoint = approved_endpoint(tenant, ehr)
    settings = {"clinician_sign_in": True, "virtual_appointment_links": True}
    assert tenant.call("PATCH", f"portal/endpoints/{endpoint}", json=settings).status_code == 200
    entra_id.user = {"tid": tenant.id, "oid": str(uuid.uuid4())}
    before = set(stub.meeting_subscriptions())
    assert signed_in_launch(http, ehr, FOLLOW_UP).status_code == 302
    (events,) = stub.meeting_subscriptions() - before
    assert app.server.run(stub.notify(events, roster(1, joined=[clinician(tenant), PATIENT]))) == 202
    app.pump()  # the visit's events: its call record is then known as one of ours
    provider.renew(events, datetime.now(UTC) + timedelta(days=2))

    call_records = get_runtime().writeback.call_records
    due = dataclasses.replace(call_records, clock=FakeClock(datetime.now(UTC)), renew_before=timedelta(days=3))
    for subscription in [s for s, v in stub.subscriptions.items() if v["resource"] == "/communications/callRecords"]:
        del stub.subscriptions[subscription]
    assert due.ensure_subscription() == "created"
    assert due.ensure_subscription() == "renewed"
    (records,) = [s for s, v in stub.subscriptions.items() if v["resource"] == "/communications/callRecords"]

    key = appointment_key(tenant.id, endpoint, f"csn:{FOLLOW_UP.csn}")
    meeting = next(m for (_, external), m in stub.meetings.items() if external == key)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    record_id = str(uuid.uuid4())
    doctor, patient = user("aad-c", tenant.id, "Dr Avery"), guest("guest-p", "Jane Doe")
    stub.call_records[record_id] = {
        "id": record_id,
        "version": 1,
        "type": "groupCall",
        "modalities": ["audio", "video"],
        "joinWebUrl": meeting["joinWebUrl"],
        "startDateTime": _iso(start),
        "endDateTime": _iso(start + timedelta(minutes=20)),
        "lastModifiedDateTime": _iso(start + timedelta(minutes=35)),
        "sessions": [
            session(doctor, stream("PT0.004S", 0.001, "PT0.05S"), {"averageVideoFrameRate": 29.0}),
            session(patient, stream("PT0.045S", 0.02, "PT0.12S", degradation=1.4)),
            session(patient, stream("PT0.015S", 0.04, "PT0.08S", degradation=0.6)),
        ],
    }
    notice = {"id": record_id, "@odata.type": "#microsoft.graph.callrecord"}
    assert app.server.run(stub.notify(records, notice, tenant_id=tenant.id)) == 202  # a call of the tenant
    app.pump()
    assert any(e.path.endswith("/sessions") for e in stub.exchanges), "the sessions' next link was not followed"
    return list(stub.exchanges)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_the_extract_names_its_source() -> None:
    source = graph_v1().source
    assert source["repository"] == "https://github.com/microsoftgraph/msgraph-metadata"
    assert re.fullmatch(r"[0-9a-f]{40}", source["commit"])
    assert (Path(__file__).with_name("graph_v1_extract.LICENSE")).read_text().count(source["commit"]) == 1


def test_every_graph_call_the_connector_makes_is_graphs(traffic: list[Exchange]) -> None:
    graph = graph_v1()
    problems: list[str] = []
    called = set()
    for exchange in traffic:
        version, _, path = exchange.path.lstrip("/").partition("/")
        assert version in ("v1.0", "beta"), exchange.path
        shape = [s if s in NAMES else "{id}" for s in exchange.path.split("/")]
        called.add((exchange.method, "/".join(shape)))
        step = graph.resolve(exchange.method, path)
        problems += [f"{exchange.method} {exchange.path} {p}" for p in _request_problems(graph, exchange, step)]
        problems += [f"{exchange.method} {exchange.path} answer {p}" for p in _answer_problems(graph, exchange, step)]
    assert not problems, "\n".join(problems)
    assert {
        ("POST", "/v1.0/users/{id}/onlineMeetings/createOrGet"),
        ("PATCH", "/v1.0/users/{id}/onlineMeetings/{id}"),
        ("GET", "/v1.0/users/{id}/onlineMeetings/{id}/getVirtualAppointmentJoinWebUrl"),
        ("POST", "/beta/subscriptions"),
        ("POST", "/v1.0/subscriptions"),
        ("PATCH", "/beta/subscriptions/{id}"),
        ("PATCH", "/v1.0/subscriptions/{id}"),
        ("GET", "/v1.0/communications/callRecords/{id}"),
        ("GET", "/v1.0/communications/callRecords/{id}/sessions"),
    } <= called


def _request_problems(graph: GraphModel, exchange: Exchange, step: Step) -> list[str]:
    problems = [p for option in ("$select", "$expand") for p in _query_problems(graph, exchange.query, option, step)]
    if step.operation is not None:
        parameters = step.operation["parameters"]
        body = exchange.body or {}
        problems += [f"body.{k}: not a parameter of {step.operation['name']}" for k in body if k not in parameters]
        problems += [
            f"body.{name}: missing, but {step.operation['name']} requires it"
            for name, parameter in parameters.items()
            if parameter.get("nullable") is False and name not in body
        ]
        for name, value in body.items():
            if name in parameters and value is not None:
                problems += graph.check(value, parameters[name]["type"], f"body.{name}")
        return problems
    if exchange.body is not None:
        problems += graph.check(exchange.body, step.type, "body", required=exchange.method == "POST")
    return problems


def _query_problems(graph: GraphModel, query: dict[str, str], option: str, step: Step) -> list[str]:
    """$select names properties of the target; $expand (nested as `a($expand=b)`) its navigation properties."""
    if option not in query:
        return []
    if option == "$select":
        declared = graph.members(step.type)
        return [
            f"$select={name}: not a property of {step.type}"
            for name in query[option].split(",")
            if name not in declared and name != "id"
        ]
    problems, target = [], step.type
    for name in re.findall(r"(\w+)(?=\(|$|\))", query[option]):
        navigation = graph.members(target, "navigation").get(name)
        if navigation is None:
            problems.append(f"$expand={name}: not a navigation property of {target}")
            break
        target = navigation["type"].removeprefix("Collection(").removesuffix(")")
    return problems


def _answer_problems(graph: GraphModel, exchange: Exchange, step: Step) -> list[str]:
    answer = exchange.answer
    if exchange.status >= 400:
        error = answer.get("error") if isinstance(answer, dict) else None
        ok = isinstance(error, dict) and isinstance(error.get("code"), str) and isinstance(error.get("message"), str)
        return [] if ok else [f"{answer!r} is not an OData error"]
    if answer is None:
        return []
    if step.operation is not None:
        returns = step.operation["returns"]
        if returns.startswith(("Edm.", "Collection(")):  # OData wraps a primitive or a collection in "value"
            wrapped = {k: v for k, v in answer.items() if not k.startswith("@odata.")}
            extra = [f"{k}: not part of an operation's answer" for k in wrapped if k != "value"]
            return extra + graph.check(wrapped.get("value"), returns, "value")
        return graph.check(answer, returns)
    if step.collection and exchange.method == "GET":
        page = {k: v for k, v in answer.items() if not k.startswith("@odata.")}  # nextLink, context
        return graph.check(page.get("value"), f"Collection({step.type})", "value") + [
            f"{k}: not part of a collection page" for k in page if k != "value"
        ]
    return graph.check(answer, step.type)


def test_every_change_notification_the_stub_delivers_is_graphs(
    traffic: list[Exchange], graph_meetings: GraphMeetings
) -> None:
    delivered = graph_meetings.stub.notifications
    assert len(delivered) == 2
    problems = [p for n in delivered for p in graph_v1().check(n, NOTIFICATIONS, required=True)]
    assert not problems, "\n".join(problems)


def test_every_property_the_connector_reads_is_declared() -> None:
    graph = graph_v1()
    undeclared = []
    for module, roots in READERS.items():
        for key in sorted(_keys_read(ROOT / module) - NOT_GRAPH):
            name = key.partition("@")[0]
            if name and not graph.declares(roots, name):
                undeclared.append(f"{module}: {key}")
    assert not undeclared, "\n".join(undeclared)


def _keys_read(module: Path) -> set[str]:
    """The string keys a module reads from JSON objects: `x.get("key")` and `x["key"]`."""
    keys: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            argument = node.args[0] if node.args else None
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            argument = node.slice
        else:
            continue
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            keys.add(argument.value)
    return keys


def test_the_dev_meeting_page_plays_graph_as_graph_describes_it() -> None:
    """make run's meeting page: its change notifications (call events, then the call record's) and the call record
    the local provider reads are held to the same description as the Graph stub."""
    received: list[dict[str, Any]] = []

    async def webhook(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(status=202)

    hook = web.Application()
    hook.router.add_post("/hook", webhook)
    subscriptions, records = LocalSubscriptions(), LocalCallRecords()
    meeting_app = web.Application()
    meeting_app.router.add_routes(MeetingRooms(subscriptions, records).routes())
    expires = datetime.now(UTC) + timedelta(days=2)
    with ServerThread(hook) as receiver, ServerThread(meeting_app) as server:
        provider = LocalMeetingProvider(server.url, subscriptions, records)
        start = datetime.now(UTC)
        meeting = provider.create_or_get(MeetingRequest("key-1", "dr-1", "Visit", start, start + timedelta(hours=1)))
        tenant = str(uuid.uuid4())
        provider.subscribe(meeting, f"{receiver.url}/hook", "secret", expires, tenant_id=tenant)
        provider.subscribe_call_records(f"{receiver.url}/hook", "cr-secret", expires)
        with httpx.Client(base_url=f"{server.url}/dev/meetings/{meeting.meeting_id}") as room:
            clinician_id = room.post("/join", json={"role": "clinician"}).json()["id"]
            patient_id = room.post("/join", json={"role": "guest"}).json()["id"]
            room.post("/admit", json={"by": clinician_id, "participant": patient_id})
            room.post("/leave", json={"id": patient_id})
            room.post("/leave", json={"id": clinician_id})
    graph = graph_v1()
    assert len(received) == 9  # eight call events, then the call record
    problems = [p for payload in received for p in graph.check(payload, NOTIFICATIONS, required=True)]
    record_id = received[-1]["value"][0]["resourceData"]["id"]
    problems += graph.check(provider.call_record(record_id, full=True), "microsoft.graph.callRecords.callRecord")
    assert not problems, "\n".join(problems)
