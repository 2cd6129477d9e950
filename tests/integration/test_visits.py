"""Virtual visits over HTTP: the real app on the dev host, Azurite, the ehr EHR's launches and the Graph
stub. The organisation is in the EU geography."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from aiohttp import web
from azure.data.tables import TableServiceClient

from dev.fakes.sandbox_ehr import SAMPLE_APPOINTMENTS, SandboxEhr, SandboxUser, encode_launch
from dev.host.serving import ServerThread
from shared.core.settings import Geography
from shared.hl7.siu import AppointmentStatus
from shared.runtime import get_runtime
from shared.visits.models import Appointment, appointment_key
from shared.visits.tables import AppointmentRepository
from shared.writeback.subscriptions import MeetingSubscriptions
from shared.writeback.tables import MeetingSubscriptionRepository
from tests.conftest import GraphMeetings
from tests.support.clock import FakeClock
from tests.support.portal import Tenant, approved_endpoint
from tests.support.visits import join_link, launch

FOLLOW_UP, NEW_PATIENT, GROUP_ONE, GROUP_TWO = SAMPLE_APPOINTMENTS


@pytest.fixture
def endpoint(tenant: Tenant, ehr: SandboxEhr, graph_meetings: GraphMeetings) -> str:
    return approved_endpoint(tenant, ehr)


def page_text(response: httpx.Response) -> str:
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Traceback" not in response.text
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text))


def test_provider_and_patient_launch_share_one_meeting(
    http: httpx.Client, ehr: SandboxEhr, endpoint: str, graph_meetings: GraphMeetings
) -> None:
    stub = graph_meetings.stub
    before = len(stub.meetings)
    clinician, _ = launch(http, ehr, FOLLOW_UP, "provider")
    assert clinician.status_code == 302
    join_url = clinician.headers["Location"]
    assert join_url.startswith("https://teams.microsoft.com/l/meetup-join/")
    assert len(stub.meetings) == before + 1
    meeting = next(m for m in stub.meetings.values() if join_url == m["joinWebUrl"])
    assert stub.lobby[meeting["id"]] == "organization"  # clinicians bypass, everyone else waits
    assert meeting["subject"] == "Virtual visit"
    assert FOLLOW_UP.csn not in meeting["externalId"] and FOLLOW_UP.id not in meeting["externalId"]
    organizers = [user for (user, external), m in stub.meetings.items() if m is meeting]
    assert organizers == ["service-organizer"]

    patient, _ = launch(http, ehr, FOLLOW_UP, "patient")
    assert patient.status_code == 302
    assert patient.headers["Location"].startswith(join_url)
    assert "anon=true" in patient.headers["Location"]
    assert len(stub.meetings) == before + 1

    # The same clinician again, a second clinician, an interpreter: all in the same meeting.
    assert launch(http, ehr, FOLLOW_UP, "provider")[0].headers["Location"] == join_url
    first_user = ehr.user
    ehr.user = SandboxUser("E1002", "Practitioner/E1002", "Dr Blake Second")
    try:
        assert launch(http, ehr, FOLLOW_UP, "provider")[0].headers["Location"] == join_url
    finally:
        ehr.user = first_user
    assert len(stub.meetings) == before + 1

    # Another appointment gets another meeting; a group conference puts both appointments in one.
    assert launch(http, ehr, NEW_PATIENT, "provider")[0].headers["Location"] != join_url
    group = launch(http, ehr, GROUP_ONE, "provider")[0].headers["Location"]
    assert launch(http, ehr, GROUP_TWO, "patient")[0].headers["Location"].startswith(group)
    assert len(stub.meetings) == before + 3


def test_launch_context_from_fhir_context_alone(
    http: httpx.Client, ehr: SandboxEhr, endpoint: str, graph_meetings: GraphMeetings
) -> None:
    """Without the EHR's CSN in the token response, the appointment comes from SMART's fhirContext."""
    context = ehr.launch_context(NEW_PATIENT, ehr.user.fhir_user)
    context = {name: value for name, value in context.items() if name not in ("csn", "appointment")}
    start = http.get("/api/launch/provider", params={"iss": ehr.fhir_base, "launch": encode_launch(context)})
    authorize = httpx.get(start.headers["Location"], follow_redirects=False, timeout=10)
    assert http.get(authorize.headers["Location"]).status_code == 302


def test_unknown_iss_makes_no_outbound_request(http: httpx.Client) -> None:
    seen: list[str] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.json_response({})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    with ServerThread(app) as elsewhere:
        answer = http.get("/api/launch/provider", params={"iss": f"{elsewhere.url}/fhir", "launch": "abc"})
    assert answer.status_code == 403
    assert "not connected" in page_text(answer)
    assert seen == []
    missing = http.get("/api/launch/provider")
    assert missing.status_code == 400 and "Start the virtual visit from the EHR" in page_text(missing)


def test_callback_failures_get_friendly_pages(
    http: httpx.Client, ehr: SandboxEhr, endpoint: str, graph_meetings: GraphMeetings
) -> None:
    ok, callback_url = launch(http, ehr, FOLLOW_UP, "provider")
    assert ok.status_code == 302
    replay = http.get(callback_url)
    assert replay.status_code == 400 and "already used" in page_text(replay)
    wrong = http.get("/api/launch/callback", params={"state": "not-ours", "code": "x"})
    assert wrong.status_code == 400 and "already used or is not valid" in page_text(wrong)

    start = http.get(ehr.launch_url(FOLLOW_UP, "provider"))
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    no_code = http.get("/api/launch/callback", params={"state": state})
    assert no_code.status_code == 400 and "no sign-in code" in page_text(no_code)

    start = http.get(ehr.launch_url(FOLLOW_UP, "provider"))
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    denied = http.get("/api/launch/callback", params={"state": state, "error": "access_denied"})
    assert denied.status_code == 400 and "did not allow the connector to start the visit" in page_text(denied)

    ehr.forge_next_id_token = True
    forged, _ = launch(http, ehr, FOLLOW_UP, "provider")
    assert forged.status_code == 400
    assert "could not be checked" in page_text(forged)


def test_long_launch_values_are_posted(
    http: httpx.Client, ehr: SandboxEhr, endpoint: str, graph_meetings: GraphMeetings
) -> None:
    url = ehr.launch_url(FOLLOW_UP, "provider")
    long_launch = re.sub(r"launch=[^&]+", "launch=" + "J" * 2500, url)
    answer = http.get(long_launch)
    assert answer.status_code == 200
    assert "method='post'" in answer.text and f"action='{ehr.url}/oauth2/authorize'" in answer.text
    assert "J" * 2500 in answer.text


def test_graph_429_is_retried_after_its_retry_after(
    http: httpx.Client, ehr: SandboxEhr, endpoint: str, graph_meetings: GraphMeetings
) -> None:
    graph_meetings.stub.failures.append((429, {"Retry-After": "7"}))
    answer, _ = launch(http, ehr, NEW_PATIENT, "provider")
    assert answer.status_code == 302
    assert graph_meetings.sleeps == [7.0]


def test_graph_failing_for_good_gives_a_clear_page(
    http: httpx.Client, ehr: SandboxEhr, endpoint: str, graph_meetings: GraphMeetings
) -> None:
    graph_meetings.stub.failures.extend([(503, {}), (503, {}), (503, {})])
    answer, _ = launch(http, ehr, NEW_PATIENT, "provider")
    assert answer.status_code == 503
    assert "wait a minute and start the visit again" in page_text(answer)
    assert len(graph_meetings.sleeps) == 2  # three attempts


def join_token(tenant: Tenant, endpoint: str, start: datetime, key: str | None = None) -> str:
    """A join link's token (its URL's fragment)."""
    return urlsplit(join_link(tenant, endpoint, start, key)).fragment


def join(http: httpx.Client, token: str) -> httpx.Response:
    """What the join page does with its link's fragment."""
    return http.post("/api/join", data={"token": token})


def test_join_links_inside_before_and_after_their_window(
    http: httpx.Client, tenant: Tenant, endpoint: str, graph_meetings: GraphMeetings
) -> None:
    now = datetime.now(UTC)
    inside = join(http, join_token(tenant, endpoint, now + timedelta(minutes=10)))
    assert inside.status_code == 302 and "anon=true" in inside.headers["Location"]
    early = join(http, join_token(tenant, endpoint, now + timedelta(hours=2)))
    assert early.status_code == 400 and "not open yet" in page_text(early)
    late = join(http, join_token(tenant, endpoint, now - timedelta(hours=3)))
    assert late.status_code == 410 and "has ended" in page_text(late)


def test_tampered_and_cancelled_join_links(
    http: httpx.Client, tenant: Tenant, endpoint: str, graph_meetings: GraphMeetings
) -> None:
    now = datetime.now(UTC)
    token = join_token(tenant, endpoint, now)
    flipped = token[:30] + ("A" if token[30] != "A" else "B") + token[31:]
    tampered = join(http, flipped)
    assert tampered.status_code == 400 and "not valid" in page_text(tampered)
    assert join(http, "nonsense").status_code == 400

    key = appointment_key(tenant.id, endpoint, "csn:cancelled")
    runtime = get_runtime()
    organisation = runtime.setup.organisations.get(_principal(tenant))
    runtime.platform.tables.data(organisation, AppointmentRepository).upsert(
        Appointment(
            endpoint_id=endpoint,
            appointment_key=key,
            start=now,
            end=now + timedelta(minutes=30),
            status=AppointmentStatus.CANCELLED,
        )
    )
    cancelled = join(http, join_token(tenant, endpoint, now, key=key))
    assert cancelled.status_code == 410
    text = page_text(cancelled)
    assert "cancelled" in text and key not in text


def _principal(tenant: Tenant) -> Any:
    from shared.auth.principal import Principal, Role

    return Principal(tenant.id, "test", "test@x.org", frozenset({Role.ADMIN}))


def test_only_user_ids_and_meeting_mappings_are_stored_in_the_eu_account(
    http: httpx.Client,
    ehr: SandboxEhr,
    tenant: Tenant,
    endpoint: str,
    graph_meetings: GraphMeetings,
    environment: dict[str, str],
) -> None:
    launch(http, ehr, FOLLOW_UP, "provider")
    launch(http, ehr, FOLLOW_UP, "patient")
    prefix = get_runtime().settings.storage.table_prefix
    identifiers = {FOLLOW_UP.csn, FOLLOW_UP.id, FOLLOW_UP.patient, FOLLOW_UP.encounter, "P2001"}

    def rows(geography: Geography) -> dict[str, list[dict[str, Any]]]:
        service = TableServiceClient.from_connection_string(environment[f"DATA_STORAGE_{geography.value}"])
        found: dict[str, list[dict[str, Any]]] = {}
        for table in service.list_tables():
            if table.name.startswith(prefix):
                entities = [
                    dict(e)
                    for e in service.get_table_client(table.name).query_entities(
                        "PartitionKey eq @p", parameters={"p": endpoint}
                    )
                ]
                if entities:
                    found[table.name.removeprefix(prefix)] = entities
        return found

    eu = rows(Geography.EU)
    assert set(eu) == {"ehrusers", "meetinglinks"}
    assert [sorted(set(r) - {"PartitionKey", "RowKey", "Timestamp"}) for r in eu["ehrusers"]] == [
        ["ehr_user_id", "endpoint_id", "last_seen_at"]
    ]
    assert eu["ehrusers"][0]["ehr_user_id"] == f"{ehr.fhir_base}/Practitioner/E1001"
    assert len(eu["meetinglinks"]) == 1  # one appointment, one mapping; the patient is not stored
    for entity in eu["ehrusers"] + eu["meetinglinks"]:
        for value in entity.values():
            assert not any(identifier in str(value) for identifier in identifiers)
    assert rows(Geography.US) == {} and rows(Geography.APAC) == {}


def test_a_new_meeting_subscribes_to_its_call_events(
    http: httpx.Client, ehr: SandboxEhr, endpoint: str, graph_meetings: GraphMeetings
) -> None:
    stub = graph_meetings.stub
    before = set(stub.subscriptions)
    clinician, _ = launch(http, ehr, NEW_PATIENT, "provider")
    (subscription_id,) = stub.meeting_subscriptions() - before  # Graph validated our URL before creating it
    created = stub.subscriptions[subscription_id]
    join_url = clinician.headers["Location"]
    encoded = quote(join_url, safe="")
    assert created["resource"] == f"communications/onlineMeetings(joinWebUrl='{encoded}')/meetingCallEvents"
    # The URL names the organisation's geography, whose account keeps the subscription's row.
    assert created["notificationUrl"].endswith("/api/events/meetings/eu") and len(created["clientState"]) >= 32
    runtime = get_runtime()
    rows = runtime.platform.tables.in_geography(Geography.EU, MeetingSubscriptionRepository)
    row = rows.get("subscriptions", subscription_id)
    assert created["clientState"] not in row.model_dump_json()  # only its hash is kept
    assert runtime.platform.tables.control(MeetingSubscriptionRepository).find("subscriptions", subscription_id) is None
    launch(http, ehr, NEW_PATIENT, "patient")
    assert stub.meeting_subscriptions() - before == {subscription_id}  # one per meeting

    # Graph's notifications arrive with the subscription's clientState and are taken.
    server = ServerThread(web.Application())  # any loop will do to run the stub's client
    with server:
        assert server.run(stub.notify(subscription_id, {"callEventType": "callStarted"})) == 202
        assert server.run(stub.notify(subscription_id, {"callEventType": "x"}, client_state="forged")) == 403

    # Renewal: a day before expiry it is extended while the visit may still run (this one is days ahead);
    # half a day after the visit it is let go.
    row = row.model_copy(update={"meeting_ends_at": datetime.now(UTC) + timedelta(days=4)})
    rows.upsert(row)
    clock = FakeClock(datetime.now(UTC) + timedelta(days=1, hours=1))
    renewals = MeetingSubscriptions(
        tables=runtime.platform.tables,
        meetings=graph_meetings.provider,
        clock=clock,
        notification_url=runtime.writeback.subscriptions.notification_url,
        geographies=[Geography.US, Geography.EU],
    )
    first = renewals.renew_due()
    assert first.renewed >= 1 and first.failed == 0
    assert stub.subscriptions[subscription_id]["expirationDateTime"].startswith(
        (clock.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    )
    clock.set(row.meeting_ends_at + timedelta(days=1))
    assert renewals.renew_due().retired >= 1
    assert rows.find("subscriptions", subscription_id) is None


def test_an_older_versions_subscription_is_moved_to_its_geography_when_renewed(
    tenant: Tenant, ehr: SandboxEhr, endpoint: str, http: httpx.Client, graph_meetings: GraphMeetings
) -> None:
    """A version before geography routing kept the row in the app's account and subscribed with
    `/api/events/meetings`: the renewal timer points the subscription at the geography's URL (Graph validates it)
    and moves the row; notifications then go there."""
    stub = graph_meetings.stub
    before = set(stub.subscriptions)
    launch(http, ehr, NEW_PATIENT, "provider")
    (subscription_id,) = stub.meeting_subscriptions() - before
    runtime = get_runtime()
    tables = runtime.platform.tables
    geography_rows = tables.in_geography(Geography.EU, MeetingSubscriptionRepository)
    older_rows = tables.control(MeetingSubscriptionRepository)
    # As the older version left it: the row in the app's account, Graph delivering to the URL without geography.
    row = geography_rows.get("subscriptions", subscription_id)
    row = row.model_copy(update={"meeting_ends_at": datetime.now(UTC) + timedelta(hours=4)})
    older_rows.upsert(row)
    geography_rows.delete("subscriptions", subscription_id)
    base = runtime.writeback.subscriptions.notification_url
    stub.subscriptions[subscription_id]["notificationUrl"] = base
    server = ServerThread(web.Application())
    with server:
        assert server.run(stub.notify(subscription_id, {"callEventType": "callStarted"})) == 202  # still taken

        report = runtime.writeback.subscriptions.renew_due()  # not due for days: moved all the same
        assert report.moved == 1 and report.failed == 0
        assert stub.subscriptions[subscription_id]["notificationUrl"] == f"{base}/eu"
        assert older_rows.find("subscriptions", subscription_id) is None
        moved = geography_rows.get("subscriptions", subscription_id)
        assert moved.client_state_hash == row.client_state_hash and moved.appointment_key == row.appointment_key
        assert server.run(stub.notify(subscription_id, {"callEventType": "callEnded"})) == 202
    assert runtime.writeback.subscriptions.renew_due().moved == 0  # nothing left to move


def test_the_visit_panel_is_for_the_launching_clinicians_visit_only(
    tenant: Tenant, ehr: SandboxEhr, endpoint: str, http: httpx.Client
) -> None:
    follow_up = SAMPLE_APPOINTMENTS[0]
    direct, _ = launch(http, ehr, follow_up, "provider")
    assert direct.status_code == 302 and "/panel" not in direct.headers["Location"]  # teams: as before
    assert tenant.call("PATCH", f"portal/endpoints/{endpoint}", json={"provider_landing": "panel"}).status_code == 200
    answer, _ = launch(http, ehr, follow_up, "provider")
    key = appointment_key(tenant.id, endpoint, f"csn:{follow_up.csn}")
    assert answer.headers["Location"].endswith(f"/api/visits/{key}/panel")
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("visit_session=")).split(";")[0]
    page = http.get(f"/api/visits/{key}/panel", headers={"Cookie": cookie})
    assert page.status_code == 200 and "Open the meeting in Teams" in page.text
    link = re.search(r'id="open" href="([^"]+)"', page.text)
    assert link is not None and link.group(1).startswith("http")
    other = http.get(f"/api/visits/{'0' * 40}/panel", headers={"Cookie": cookie})
    assert other.status_code == 403 and other.headers["Content-Type"].startswith("text/html")
    admin = {"Authorization": f"Bearer {tenant.token('a', ['Connector.Admin'])}"}
    bearer = httpx.get(
        f"{str(http.base_url).rstrip('/')}/api/visits/{key}/panel", headers=admin
    )  # no cookie jar: an admin's token
    assert bearer.status_code == 401 and "Start the visit from the EHR" in bearer.text  # the cookie only
