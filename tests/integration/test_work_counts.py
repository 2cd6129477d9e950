"""What one unit of work costs, counted on the wire (shared/core/usage.py): storage transactions by account, table
or queue and kind (the storage clients' transport), Graph calls (the Graph stub), EHR calls (the sandbox EHR),
function executions (the dev host), secret-store reads and SMS segments (the outbox). Each unit runs once to warm
the worker (tables created, endpoints and keys cached), then once measured: the steady state a month is made of.

A change that adds a round trip fails here; say in the comment why the new one is needed, and update the cost
model's counts (bench/costs.py) with it. Queue receives by the host are left out (in Azure they depend on the
polling backoff and the batch size, not on one unit); its deletes are one per message handled."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from dev.fakes.sandbox_ehr import SAMPLE_APPOINTMENTS, SandboxEhr
from shared.core.settings import Geography
from shared.core.usage import Measured, measure
from shared.runtime import get_runtime
from shared.scheduling.models import DueReminders
from shared.secrets import CachedSecretStore
from shared.storage.queue_names import REMINDERS_DUE
from tests.conftest import AppHost, GraphMeetings
from tests.support.certs import sign
from tests.support.clinic import KEY, Clinic, deliver
from tests.support.hl7 import siu
from tests.support.portal import Tenant, approved_endpoint
from tests.support.texts import NOW, Setup, book, send_queued
from tests.support.visits import follow_join_link, join_link, launch
from tests.support.writeback import Visit, clinician, roster


@pytest.fixture(autouse=True)
def fresh_secrets() -> None:
    """Secrets are re-read at most once per cache period; one read long ago would expire at a random moment, maybe
    inside a measured unit. Forgotten before each test, they are read by its warm-up and kept through it."""
    secrets = get_runtime().platform.secrets
    if isinstance(secrets, CachedSecretStore):
        secrets.forget_all()


FOLLOW_UP, NEW_PATIENT, *_ = SAMPLE_APPOINTMENTS


def counts(measured: Measured) -> dict[str, int]:
    """`kind name what` -> how many, with the run's table prefix taken off."""
    prefix = os.environ["TABLE_PREFIX"]
    found: dict[str, int] = {}
    for key, n in sorted(measured.counts.items()):
        if key[0] == "storage":
            _, account, resource, kind = key
            if account == "host" and kind != "delete":
                continue  # polling and the test's own single-queue pumps creating their clients
            found[f"{account} {resource.removeprefix(prefix)} {kind}"] = n
        else:
            found[" ".join(key)] = n
    return found


def test_a_clinicians_launch_of_a_new_visit(
    http: httpx.Client, tenant: Tenant, ehr: SandboxEhr, graph_meetings: GraphMeetings
) -> None:
    approved_endpoint(tenant, ehr)
    assert launch(http, ehr, FOLLOW_UP, "provider")[0].status_code == 302
    with measure() as launched:
        answer, _ = launch(http, ehr, NEW_PATIENT, "provider")
    assert answer.status_code == 302
    assert counts(launched) == {
        "function launch_provider": 1,  # the EHR opens our launch URL
        "function launch_callback": 1,  # the EHR's authorize sends the browser back
        "function meeting_events": 1,  # Graph's validation handshake of the new meeting's subscription
        # Whose the launch's iss is (the URL's claim) and that endpoint: cached per worker for a minute, no read.
        "app launchstates insert": 1,  # the single-use state, bound to the browser
        "app launchstates read": 1,  # the callback finds it...
        "app launchstates delete": 1,  # ...and uses it up (no replay)
        "ehr POST token": 1,  # the code for the token response (discovery and keys are cached per worker)
        "eu appointments read": 1,  # what HL7 booked for the visit (its clinician organises the meeting)
        "eu ehrusers read": 1,  # whether the clinician linked their Microsoft 365 account
        "eu meetinglinks read": 1,  # the appointment's meeting, if it has one...
        "graph POST createOrGet": 1,  # ...it has not: Graph makes it
        "graph PATCH onlineMeetings": 1,  # the lobby: organisation members bypass, everyone else waits
        "eu meetinglinks insert": 1,  # the appointment -> meeting mapping (the insert settles a race)
        "graph POST subscriptions": 1,  # the meeting's call events, for the visit events and writeback
        "eu meetingsubscriptions upsert": 1,  # its clientState hash and visit, in the geography (data plane)
    }


def test_a_patients_join_link_to_a_new_visit(
    http: httpx.Client, tenant: Tenant, ehr: SandboxEhr, graph_meetings: GraphMeetings
) -> None:
    endpoint = approved_endpoint(tenant, ehr)
    base = str(http.base_url).rstrip("/")

    def link() -> str:
        return base + "/api/join#" + join_link(tenant, endpoint, datetime.now(UTC)).split("#", 1)[1]

    assert follow_join_link(httpx.Client(), link()).status_code == 302
    token = link()
    with measure() as joined:
        answer = follow_join_link(httpx.Client(), token)
    assert answer.status_code == 302
    assert counts(joined) == {
        "function join_page": 2,  # the page (GET), then its script posts the link's token
        "eu appointments read": 1,  # the window as the appointment stands now (and the new meeting's times)
        "eu meetinglinks read": 1,  # the visit's meeting, if it has one (here the patient is first)...
        "graph POST createOrGet": 1,  # ...so Graph makes it
        "graph PATCH onlineMeetings": 1,  # its lobby
        "eu meetinglinks insert": 1,  # the mapping
        "graph POST subscriptions": 1,  # its call events
        "function meeting_events": 1,  # Graph's validation handshake
        "eu meetingsubscriptions upsert": 1,  # its clientState hash and visit, in the geography
        "eu visitevents upsert": 1,  # the patient opened the link (the visit report's "link opened")
    }


def test_an_siu_message_received_applied_and_its_confirmation_texted(app: AppHost, clinic: Clinic) -> None:
    now = datetime.now(UTC)
    deliver(app, clinic, siu("S12", clinic.start + timedelta(hours=5), now - timedelta(seconds=5), control="WARM1"))
    body = siu("S12", clinic.start, now)  # a later MSH-7 than the warm-up's: the EHR's next word on the visit
    headers = {"Content-Type": "application/hl7-v2", "HL7-Signature": sign(KEY, body)}
    with measure() as received:
        answer = httpx.post(f"{app.server.url}/api/hl7/{clinic.endpoint}", content=body, headers=headers)
    assert answer.status_code == 200
    assert counts(received) == {
        "function receive_hl7": 1,  # the EHR's POST (endpoint and certificate cached per worker)
        "eu hl7-appointments put": 1,  # the parsed change, queued before the ACK
    }
    with measure() as applied:
        app.pump_only("apply_appointments_eu")
    assert counts(applied) == {
        "function apply_appointments_eu": 1,
        "host hl7-appointments delete": 1,  # the host settles the message
        "eu appointments read": 1,  # the version we hold (duplicates and older messages stop here)
        "eu appointments upsert": 1,  # the new version
        "eu reminderindex delete": 1,  # the reminder's old minute...
        "eu reminderindex upsert": 1,  # ...and its new one
        "eu sms-outbound put": 1,  # the confirmation the endpoint's SMS settings ask for
    }
    with measure() as texted:
        app.pump_only("send_texts_eu")
    assert counts(texted) == {
        "function send_texts_eu": 1,
        "host sms-outbound delete": 1,
        "eu appointments read": 1,  # fresh data: cancelled, moved or started texts are not sent
        "eu optouts read": 1,  # STOP is honoured
        "eu meetinglinks read": 1,  # the visit's meeting, if it exists: its dial-in goes in the text
        "eu smsmessages read": 1,  # the text's record: one already settled does nothing
        "eu smsmessages insert": 1,  # claimed (queued -> sending) with its ETag...
        "eu smsmessages upsert": 1,  # ...then sent
        "eu smsoutbox upsert": 1,  # the local stand-in for ACS's send, in the geography (no table write in Azure)
        "sms segments": 2,  # the confirmation with its join link: two GSM-7 segments
    }


def test_a_participant_event_written_back_to_the_ehr(app: AppHost, start_visit: Callable[[str], Visit]) -> None:
    visit = start_visit("epic")
    visit.notify(roster(1, joined=[clinician(visit.tenant)]))
    app.pump()
    with measure() as notified:
        visit.notify(roster(2, exited=[clinician(visit.tenant)]))
    assert counts(notified) == {
        "function meeting_events": 1,  # Graph's notification of the meeting's call event
        # Its subscription's clientState hash (and which visit it is): cached per worker for a minute, no read.
        # Stripped of names, queued for the processor in the visit's geography (the URL named it).
        "eu participant-events put": 1,
    }
    with measure() as written:
        app.pump_only("process_participant_event_eu")
    assert counts(written) == {
        "function process_participant_event_eu": 1,
        "host participant-events delete": 1,
        # The organisation (geography, settings) is cached per worker for a minute: no read.
        "eu meetinglinks read": 1,  # the visit's EHR identifiers (CSN, conference ID), read fresh: a later launch
        # may add a group visit's second appointment
        "eu visitevents query": 1,  # the visit's events so far: who is who, the report's figures
        # Written back first, then the event stored once with its outcome (a redelivery finds it stored in the
        # query above): one insert, not an insert and an update; a roster change of several people is one entity
        # group transaction.
        "eu visitevents insert": 1,
        "eu visitsummaries upsert": 1,  # the visit report's figures
        "ehr POST SetExternalConnectionStatus": 1,  # the writeback itself (the token is reused)
    }


def test_a_reminder_found_due_and_fanned_out(setup: Setup) -> None:
    book(setup, NOW + timedelta(hours=3), "C1")
    send_queued(setup.runtime)  # its confirmation
    reminders = setup.runtime.scheduling.reminders
    reminders.tick(Geography.EU)  # the first tick sets the cursor
    setup.clock.set(NOW + timedelta(hours=2))
    with measure() as ticked:
        reminders.tick(Geography.EU)
    assert counts(ticked) == {
        "eu remindercursor read": 1,  # where the last tick stopped (per geography: shared by every reminder)
        "eu reminderindex query": 1,  # one range read of the due minutes (shared by up to 1,000 reminders)
        "eu reminders-due put": 1,  # one batch of up to 100
        "eu remindercursor upsert": 1,  # the new cursor
    }
    batches = setup.runtime.platform.storage.for_geography(Geography.EU).queue(REMINDERS_DUE)
    (message,) = batches.receive_messages(max_messages=32)
    with measure() as fanned:
        reminders.fan_out(Geography.EU, DueReminders.model_validate_json(message.content))
    assert counts(fanned) == {
        "eu sms-outbound put": 1,  # one text per reminder (then sent as any text is, see above)
        "eu reminderindex batch": 1,  # the batch's index rows deleted in one entity group transaction
    }


def test_a_teams_call_that_is_not_a_visit(
    app: AppHost, http: httpx.Client, tenant: Tenant, ehr: SandboxEhr, graph_meetings: GraphMeetings
) -> None:
    """Every call of the hospital's tenant notifies the connector: one that is not a visit writes nothing and
    reads one row, in the organisation's geography (the notification names the tenant, whose organisation is cached
    per worker); Graph's notification names only the record, so its meeting is read, by itself ($select). A call of
    a tenant that is none of our organisations reads nothing at all."""
    approved_endpoint(tenant, ehr)
    launch(http, ehr, FOLLOW_UP, "provider")
    stub = graph_meetings.stub
    get_runtime().writeback.call_records.ensure_subscription()
    subscription = next(s for s, v in stub.subscriptions.items() if v["resource"] == "/communications/callRecords")
    stranger = str(uuid.uuid4())

    def measured_call(call_tenant: str) -> dict[str, int]:
        record = str(uuid.uuid4())
        stub.call_records[record] = {"id": record, "joinWebUrl": f"https://teams.example/{record}", "sessions": []}
        with measure() as call:
            notice = {"id": record, "@odata.type": "#microsoft.graph.callrecord"}
            assert app.server.run(stub.notify(subscription, notice, tenant_id=call_tenant)) == 202
            app.pump_only("process_call_record")
        return counts(call)

    for call_tenant in (tenant.id, stranger):  # the first warms the worker's caches (subscription, organisations)
        measured_call(call_tenant)
    # Before geography routing: "app meetingjoins read" (the join URLs were in the app's account) for any tenant.
    assert measured_call(tenant.id) == {
        "function call_record_events": 1,  # Graph's notification (the subscription's clientState, cached)
        "app call-records put": 1,  # queued (record and tenant IDs only): Graph wants an answer within seconds
        "function process_call_record": 1,
        "host call-records delete": 1,
        "graph GET callRecords": 1,  # the record's joinWebUrl alone: all a notification lacks
        "eu meetingjoins read": 1,  # one point read in its geography: is that meeting one of our visits? No: stop
    }
    assert measured_call(stranger) == {
        "function call_record_events": 1,
        "app call-records put": 1,
        "function process_call_record": 1,
        "host call-records delete": 1,
        # No organisation of that tenant (cached): neither Graph nor a table is asked.
    }
