"""The app's own storage account holds the control plane only: after an EU organisation's booking (a text with a
join link), visit (a clinician's launch, the meeting's call events, its Teams call record) and invite (texted to an
interpreter), no table, queue or poison queue of the app's account holds anything of that visit: not its
appointment key, meeting ID, join URL or its hash, a phone number of a patient or an invitee, a text, or a link's
token. Each of them is in the EU account instead."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
from azure.data.tables import TableServiceClient
from azure.storage.queue import QueueServiceClient

from dev.fakes.sandbox_ehr import SAMPLE_APPOINTMENTS, SandboxEhr
from shared.runtime import get_runtime
from shared.visits.models import appointment_key
from shared.writeback.call_records import join_hash
from tests.conftest import AppHost, GraphMeetings
from tests.support.call_records import guest, session, stream, user
from tests.support.clinic import PHONE, Clinic, deliver
from tests.support.hl7 import siu
from tests.support.texts import sent_texts
from tests.support.visits import JOIN_LINK, launch
from tests.support.writeback import PATIENT, clinician, roster

FOLLOW_UP = SAMPLE_APPOINTMENTS[0]
INVITEE = "2175550177"


def stored(connection_string: str) -> Iterator[tuple[str, str]]:
    """Every entity of every table and every message (visible or not yet) of every queue: (where, what)."""
    tables = TableServiceClient.from_connection_string(connection_string)
    for table in tables.list_tables():
        for entity in tables.get_table_client(table.name).list_entities():
            yield f"table {table.name}", " ".join(f"{k}={v}" for k, v in {**entity, **entity.metadata}.items())
    queues = QueueServiceClient.from_connection_string(connection_string)
    for queue in queues.list_queues():
        for message in queues.get_queue_client(queue.name).peek_messages(max_messages=32):
            content = str(message.content)
            try:
                content += " " + base64.b64decode(content, validate=True).decode("utf-8", "replace")
            except ValueError:
                pass
            yield f"queue {queue.name}", content


def test_the_app_account_holds_nothing_of_an_eu_organisations_visit(
    app: AppHost,
    clinic: Clinic,
    sandbox: SandboxEhr,
    http: httpx.Client,
    graph_meetings: GraphMeetings,
    environment: dict[str, str],
) -> None:
    tenant, stub = clinic.tenant, graph_meetings.stub
    assert tenant.call("GET", "portal/organisation").json()["geography"] == "EU"
    # The booking: a text with a join link.
    soon = (datetime.now(UTC) + timedelta(minutes=20)).replace(second=0, microsecond=0)
    deliver(app, clinic, siu("S12", soon, control="APPACCT1"))
    [booked] = [m for m in sent_texts(tenant.id) if "booked" in m["body"]]
    link = re.search(JOIN_LINK, booked["body"])
    assert link is not None
    # The visit: the clinician's launch makes the meeting and its subscription; its call events; its call record.
    before = set(stub.subscriptions)
    answer, _ = launch(http, sandbox, FOLLOW_UP, "provider")
    assert answer.status_code == 302, answer.text
    key = appointment_key(tenant.id, clinic.endpoint, f"csn:{FOLLOW_UP.csn}")
    meeting = next(m for (_, external), m in stub.meetings.items() if external == key)
    join_url = str(meeting["joinWebUrl"])
    (events,) = stub.meeting_subscriptions() - before
    assert stub.subscriptions[events]["notificationUrl"].endswith("/api/events/meetings/eu")
    assert app.server.run(stub.notify(events, roster(1, joined=[clinician(tenant), PATIENT]))) == 202
    app.pump()
    get_runtime().writeback.call_records.ensure_subscription()
    records = next(s for s, v in stub.subscriptions.items() if v["resource"] == "/communications/callRecords")
    record_id = str(uuid.uuid4())
    audio = stream("PT0.004S", 0.001, "PT0.05S")
    stub.call_records[record_id] = {
        "id": record_id,
        "type": "groupCall",
        "joinWebUrl": join_url,
        "startDateTime": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "sessions": [session(user("aad-c", tenant.id, "Dr Avery"), audio), session(guest("p", "Jane Doe"), audio)],
    }
    notice = {"id": record_id, "@odata.type": "#microsoft.graph.callrecord"}
    assert app.server.run(stub.notify(records, notice, tenant_id=tenant.id)) == 202
    # The invite: an interpreter's link, texted.
    invited = http.post(f"/api/visits/{key}/invites", json={"role": "interpreter", "phone": INVITEE})
    assert invited.status_code == 201, invited.text
    app.pump()
    [invite] = [m for m in sent_texts(tenant.id) if "interpreter" in m["body"]]
    report = tenant.call("GET", "portal/reports/call-quality?days=7").json()
    assert report["calls"] == 1  # the call record was read, and its visit found in the EU account

    identifying = {
        "the appointment key": key,
        "the meeting ID": str(meeting["id"]),
        "the join URL": join_url,
        "the join URL's hash": join_hash(join_url),
        "the patient's phone number": PHONE.lstrip("+"),
        "the invitee's phone number": INVITEE,
        "the booking text": booked["body"][:30],
        "the invite text": invite["body"][:30],
        "the booking link's token": link.group(1),
    }
    in_app = list(stored(environment["AzureWebJobsStorage"]))
    assert in_app
    for what, value in identifying.items():
        found = [where for where, text in in_app if value in text]
        assert not found, f"{what} is in the app's account: {sorted(set(found))}"
    # Where they are instead: the EU account holds the visit's rows.
    in_eu = " ".join(text for _, text in stored(environment["DATA_STORAGE_EU"]))
    assert key in in_eu and join_hash(join_url) in in_eu and str(meeting["id"]) in in_eu
