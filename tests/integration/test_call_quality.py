"""Call quality from Teams call records, through the real app: the subscription (with Graph's validation
handshake), the webhook, the `call-records` queue, the Graph stub's records (read with $select first, then with
their sessions and segments over paged next links), and the report, its CSV and its filters."""

from __future__ import annotations

import csv
import dataclasses
import io
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from dev.fakes.sandbox_ehr import SAMPLE_APPOINTMENTS, SandboxEhr
from shared.runtime import get_runtime
from shared.visits.models import appointment_key
from shared.writeback.call_quality import milliseconds, poor
from tests.conftest import AppHost, GraphMeetings
from tests.support.call_records import guest, session, stream, user
from tests.support.clock import FakeClock
from tests.support.notifications import change_notification
from tests.support.portal import Tenant, approved_endpoint, problem
from tests.support.visits import launch
from tests.support.writeback import PATIENT, clinician, roster

FOLLOW_UP = SAMPLE_APPOINTMENTS[0]


@pytest.fixture
def visit(
    app: AppHost, http: httpx.Client, tenant: Tenant, ehr: SandboxEhr, graph_meetings: GraphMeetings
) -> tuple[str, str, str]:
    """A visit whose meeting the clinician opened and the patient joined (as Graph's call events say): (endpoint,
    appointment key, the meeting's join URL)."""
    endpoint = approved_endpoint(tenant, ehr)
    stub = graph_meetings.stub
    before = set(stub.subscriptions)
    launch(http, ehr, FOLLOW_UP, "provider")
    key = appointment_key(tenant.id, endpoint, f"csn:{FOLLOW_UP.csn}")
    meeting = next(m for (_, external), m in stub.meetings.items() if external == key)
    (events,) = stub.meeting_subscriptions() - before
    assert app.server.run(stub.notify(events, roster(1, joined=[clinician(tenant), PATIENT]))) == 202
    app.pump()
    return endpoint, key, str(meeting["joinWebUrl"])


def test_poor_streams_follow_the_call_quality_dashboards_thresholds() -> None:
    assert milliseconds("PT0.045S") == pytest.approx(45.0) and milliseconds("PT1M0.5S") == pytest.approx(60500.0)
    assert milliseconds("nonsense") is None and milliseconds(None) is None
    assert poor(stream("PT0.031S", 0.0, "PT0.1S"), audio=True)  # jitter over 30 ms
    assert poor(stream("PT0.01S", 0.11, "PT0.1S"), audio=True)  # loss over 10 %
    assert poor(stream("PT0.01S", 0.0, "PT0.501S"), audio=True)  # round trip over 500 ms
    assert not poor(stream("PT0.03S", 0.1, "PT0.5S"), audio=True)  # at the thresholds: not poor
    assert not poor(stream("PT0.09S", 0.3, "PT0.9S", packets=400), audio=True)  # too few packets to say
    assert poor({"averageVideoFrameLossPercentage": 51.0}, audio=False)
    assert poor({"averageVideoFrameRate": 5.0}, audio=False)
    assert not poor({"averageVideoFrameRate": 24.0, "averageVideoPacketLossRate": 0.02}, audio=False)


def test_a_visits_call_record_becomes_call_quality_per_role(
    app: AppHost, tenant: Tenant, visit: tuple[str, str, str], graph_meetings: GraphMeetings
) -> None:
    endpoint, key, join_url = visit
    stub = graph_meetings.stub
    call_records = get_runtime().writeback.call_records
    # Made with the worker's first meeting (the stub keeps it only once /api/events/callrecords passed Graph's
    # validation handshake); the timer then finds it current.
    (subscription,) = [s for s, v in stub.subscriptions.items() if v["resource"] == "/communications/callRecords"]
    assert stub.subscriptions[subscription]["changeType"] == "created"
    assert call_records.ensure_subscription() == "current"

    doctor = user("aad-c", tenant.id, "Dr Avery")  # as the events named them
    patient = guest("guest-p", "Jane Doe")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    record_id, other_id = str(uuid.uuid4()), str(uuid.uuid4())
    good = stream("PT0.004S", 0.001, "PT0.05S", degradation=0.2)
    stub.call_records[record_id] = {
        "id": record_id,
        "type": "groupCall",
        "joinWebUrl": join_url,
        "startDateTime": start.isoformat().replace("+00:00", "Z"),
        "endDateTime": (start + timedelta(minutes=20)).isoformat().replace("+00:00", "Z"),
        "sessions": [
            session(doctor, good, {"averageVideoFrameRate": 29.0, "averageVideoPacketLossRate": 0.01}),
            session(patient, stream("PT0.045S", 0.02, "PT0.12S", degradation=1.4)),  # jitter: poor
            session(patient, stream("PT0.015S", 0.04, "PT0.08S", degradation=0.6)),  # rejoined: fine
        ],
    }
    stub.call_records[other_id] = {**stub.call_records[record_id], "id": other_id, "joinWebUrl": "https://x/other"}
    stranger_id = str(uuid.uuid4())
    stub.call_records[stranger_id] = {**stub.call_records[record_id], "id": stranger_id}
    deliveries = [(record_id, tenant.id), (other_id, tenant.id), (record_id, tenant.id), (stranger_id, None)]
    for record, record_tenant in deliveries:  # the third: a redelivery; the last: a tenant that is none of ours
        data = {"id": record, "@odata.type": "#microsoft.graph.callrecord"}
        assert app.server.run(stub.notify(subscription, data, tenant_id=record_tenant)) == 202
    app.pump()
    # Another call of the tenant: only its meeting was read, never its sessions.
    assert [r for r in stub.record_reads if r.startswith(other_id)] == [
        f"{other_id}?$select=id,joinWebUrl,startDateTime,endDateTime"
    ]
    # Another tenant's call: its organisation is none of ours, so not even its meeting was read.
    assert not [r for r in stub.record_reads if r.startswith(stranger_id)]

    report = tenant.call("GET", "portal/reports/call-quality?days=7").json()
    assert report["reported"] is True and report["calls"] == 1 and report["poor_calls"] == 1
    rows = {row["role"]: row for row in report["items"]}
    assert set(rows) == {"clinician", "patient"} and {r["appointment_key"] for r in rows.values()} == {key}
    assert rows["clinician"]["poor"] is False and rows["clinician"]["streams"] == 3
    assert rows["clinician"]["average_jitter_ms"] == pytest.approx(4.0)
    patient_row = rows["patient"]
    assert patient_row["poor"] is True and patient_row["streams"] == 4 and patient_row["poor_streams"] == 2
    assert patient_row["average_jitter_ms"] == pytest.approx(30.0)  # of 45 and 15 ms, two streams each
    assert patient_row["worst_jitter_ms"] == pytest.approx(145.0)
    assert patient_row["average_packet_loss_percent"] == pytest.approx(3.0)
    assert patient_row["average_round_trip_ms"] == pytest.approx(100.0)
    assert patient_row["average_audio_degradation"] == pytest.approx(1.0)
    assert report["by_day"] == [{"day": f"{start:%Y-%m-%d}", "calls": 1, "poor_calls": 1}]
    assert "Jane" not in str(report) and "Avery" not in str(report)

    exported = tenant.call("GET", "portal/reports/call-quality?days=7&format=csv")
    lines = list(csv.DictReader(io.StringIO(exported.text)))
    assert sorted(line["role"] for line in lines) == ["clinician", "patient"]
    assert {line["poor"] for line in lines} == {"True", "False"}
    other = tenant.call("GET", f"portal/reports/call-quality?days=7&endpoint_id={'f' * 16}").json()
    assert other["items"] == [] and other["calls"] == 0 and endpoint != "f" * 16


def test_call_record_notifications_are_checked(
    app: AppHost, http: httpx.Client, tenant: Tenant, visit: tuple[str, str, str], graph_meetings: GraphMeetings
) -> None:
    stub = graph_meetings.stub
    call_records = get_runtime().writeback.call_records
    call_records.ensure_subscription()
    subscription = next(s for s, v in stub.subscriptions.items() if v["resource"] == "/communications/callRecords")
    wrong = app.server.run(stub.notify(subscription, {"id": str(uuid.uuid4())}, client_state="not-the-secret"))
    assert wrong == 403
    problem(http.post("/api/events/callrecords", content=b"not json"), 400)
    stranger = change_notification(
        subscription_id=str(uuid.uuid4()),
        client_state="x",
        change_type="created",
        resource="/communications/callRecords",
        expires=stub.subscriptions[subscription]["expirationDateTime"],
        data={"id": "r"},
    )
    unknown = {"value": [stranger]}
    assert http.post("/api/events/callrecords", json=unknown).status_code == 202  # ignored
    handshake = http.post("/api/events/callrecords", params={"validationToken": "Validation: abc"})
    assert handshake.status_code == 200 and handshake.text == "Validation: abc"
    assert handshake.headers["Content-Type"].startswith("text/plain")


def test_the_call_records_subscription_is_renewed_and_made_again_when_gone(
    app: AppHost, visit: tuple[str, str, str], graph_meetings: GraphMeetings
) -> None:
    stub = graph_meetings.stub
    call_records = get_runtime().writeback.call_records
    assert call_records.ensure_subscription() == "current"  # expires in two days: nothing to do yet
    # The timer's view when it is due (renewed when it expires within renew_before), on a clock of ours.
    due = dataclasses.replace(call_records, clock=FakeClock(datetime.now(UTC)), renew_before=timedelta(days=3))
    assert due.ensure_subscription() == "renewed"
    (subscription,) = [s for s, v in stub.subscriptions.items() if v["resource"] == "/communications/callRecords"]
    del stub.subscriptions[subscription]  # Graph let it go (an outage longer than its life)
    assert due.ensure_subscription() == "created"  # the renewal's 404: made again, validated again
    (again,) = [s for s, v in stub.subscriptions.items() if v["resource"] == "/communications/callRecords"]
    assert again != subscription
