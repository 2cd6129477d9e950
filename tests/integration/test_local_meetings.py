"""The local meeting provider and the dev host's meeting page (lobby and admit), and the device test page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from dev.fakes.meeting_room import MeetingRooms
from dev.host.serving import ServerThread
from shared.visits.providers import MeetingRequest
from shared.visits.providers.local import LocalMeetingProvider

START = datetime(2026, 6, 1, 14, 0, tzinfo=UTC)


def request(external_id: str, organizer: str = "local-organizer") -> MeetingRequest:
    return MeetingRequest(external_id, organizer, "Virtual visit", START, START + timedelta(minutes=30))


def test_local_provider_is_idempotent_per_organizer_and_external_id() -> None:
    provider = LocalMeetingProvider("http://localhost:7071/")
    first = provider.create_or_get(request("key-1"))
    assert provider.create_or_get(request("key-1")) == first
    assert provider.create_or_get(request("key-2")).meeting_id != first.meeting_id
    assert first.join_url == f"http://localhost:7071/dev/meetings/{first.meeting_id}?role=clinician"
    assert first.browser_join_url.endswith("?role=guest")


def test_guests_wait_in_the_lobby_until_a_clinician_admits_them() -> None:
    rooms = MeetingRooms()
    from aiohttp import web

    app = web.Application()
    app.router.add_routes(rooms.routes())
    with ServerThread(app) as server, httpx.Client(base_url=f"{server.url}/dev/meetings/room1") as room:
        page = httpx.get(f"{server.url}/dev/meetings/room1", params={"role": "guest"})
        assert page.status_code == 200 and "lobby" in page.text
        clinician = room.post("/join", json={"role": "clinician"}).json()
        patient = room.post("/join", json={"role": "guest"}).json()
        assert clinician["admitted"] is True and patient["admitted"] is False
        assert room.get("/state").json()["lobby"] == [{"id": patient["id"], "role": "guest"}]
        other_guest = room.post("/join", json={"role": "guest"}).json()
        refused = room.post("/admit", json={"by": other_guest["id"], "participant": patient["id"]})
        assert refused.status_code == 403
        assert room.post("/admit", json={"by": clinician["id"], "participant": patient["id"]}).status_code == 200
        state = room.get("/state").json()
        assert {p["id"] for p in state["in_meeting"]} == {clinician["id"], patient["id"]}
        room.post("/leave", json={"id": patient["id"]})
        assert [p["id"] for p in room.get("/state").json()["in_meeting"]] == [clinician["id"]]


def test_device_test_page_needs_no_sign_in(app_host: ServerThread) -> None:
    page = httpx.get(f"{app_host.url}/api/device-test")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    for needed in ("getUserMedia", "Camera", "Microphone", "Speaker", "AudioContext"):
        assert needed in page.text


def test_the_meeting_page_notifies_its_subscriptions_as_graph_would() -> None:
    """Clinician in (call started, roster), patient in the lobby, admitted (roster), both leave (call ended):
    each a change notification carrying the subscription's clientState."""
    from aiohttp import web

    from shared.visits.providers.local import LocalSubscription, LocalSubscriptions

    received: list[dict[str, object]] = []

    async def webhook(request: web.Request) -> web.Response:
        received.extend((await request.json())["value"])
        return web.Response(status=202)

    hook = web.Application()
    hook.router.add_post("/api/events/meetings", webhook)
    subscriptions = LocalSubscriptions()
    meeting_app = web.Application()
    meeting_app.router.add_routes(MeetingRooms(subscriptions).routes())
    with ServerThread(hook) as receiver, ServerThread(meeting_app) as server:
        url = f"{receiver.url}/api/events/meetings"
        subscriptions.add(LocalSubscription("sub-1", "room2", url, "secret", "t-1", START + timedelta(days=2)))
        with httpx.Client(base_url=f"{server.url}/dev/meetings/room2") as room:
            clinician = room.post("/join", json={"role": "clinician"}).json()
            patient = room.post("/join", json={"role": "guest"}).json()
            room.post("/admit", json={"by": clinician["id"], "participant": patient["id"]})
            room.post("/leave", json={"id": patient["id"]})
            room.post("/leave", json={"id": clinician["id"]})
    assert {(n["subscriptionId"], n["clientState"]) for n in received} == {("sub-1", "secret")}
    data = [n["resourceData"] for n in received]
    kinds = [str(d["eventType"]).rsplit(".", 1)[-1] for d in data]  # type: ignore[index]
    assert kinds == [
        "CallStarted",
        "CallRosterUpdate",
        "LobbyEntered",
        "LobbyAdmitted",
        "CallRosterUpdate",
        "CallRosterUpdate",
        "CallRosterUpdate",
        "CallEnded",
    ]
    assert data[1]["activeParticipants@joined"] == [  # type: ignore[index]
        {"Id": clinician["id"], "Identity": {"User": {"Id": clinician["id"], "TenantId": "t-1"}}}
    ]
    assert data[2]["participant"] == {"Id": patient["id"], "Identity": {"Guest": {"Id": patient["id"]}}}  # type: ignore[index]
    assert [p["Id"] for p in data[5]["activeParticipants@exited"]] == [patient["id"]]  # type: ignore[index]


def test_a_local_call_leaves_a_call_record_as_teams_does() -> None:
    """make run's call quality: the meeting page keeps the ended call's record (loopback figures) and notifies the
    call-records subscription; the provider reads it as Graph would, first without its sessions."""
    from aiohttp import web

    from shared.visits.providers.local import LocalCallRecords, LocalSubscription, LocalSubscriptions

    received: list[dict[str, object]] = []

    async def webhook(request: web.Request) -> web.Response:
        received.extend((await request.json())["value"])
        return web.Response(status=202)

    hook = web.Application()
    hook.router.add_post("/api/events/callrecords", webhook)
    subscriptions, records = LocalSubscriptions(), LocalCallRecords()
    meeting_app = web.Application()
    meeting_app.router.add_routes(MeetingRooms(subscriptions, records).routes())
    with ServerThread(hook) as receiver, ServerThread(meeting_app) as server:
        provider = LocalMeetingProvider(server.url, subscriptions, records)
        meeting = provider.create_or_get(request("key-9", organizer="dr-object-id"))
        url = f"{receiver.url}/x"
        subscriptions.add(LocalSubscription("sub-9", meeting.meeting_id, url, "s", "tenant-9", START))
        subscribed = provider.subscribe_call_records(f"{receiver.url}/api/events/callrecords", "cr-secret", START)
        with httpx.Client(base_url=f"{server.url}/dev/meetings/{meeting.meeting_id}") as room:
            clinician = room.post("/join", json={"role": "clinician"}).json()
            assert room.get("/state").json()["organizer"] == "dr-object-id"
            patient = room.post("/join", json={"role": "guest"}).json()
            room.post("/admit", json={"by": clinician["id"], "participant": patient["id"]})
            room.post("/leave", json={"id": patient["id"]})
            room.post("/leave", json={"id": clinician["id"]})
    ((notification),) = received
    assert (notification["subscriptionId"], notification["clientState"]) == (subscribed.id, "cr-secret")
    record_id = str(notification["resourceData"]["id"])  # type: ignore[index]
    assert provider.call_record(record_id, full=False)["joinWebUrl"] == meeting.join_url
    assert "sessions" not in provider.call_record(record_id, full=False)
    sessions = provider.call_record(record_id, full=True)["sessions"]
    identities = [s["segments"][0]["caller"]["identity"] for s in sessions]
    assert [(i["user"]["id"], i["user"]["tenantId"]) for i in identities if "user" in i] == [
        (clinician["id"], "tenant-9")
    ]
    assert [i["guest"]["id"] for i in identities if "guest" in i] == [patient["id"]]
