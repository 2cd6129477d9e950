"""Scheduling end to end: signed SIU over HTTP, the dev host pumps hl7-appointments, the processor applies it;
texts land in the outbox. The organisation is in the EU geography."""

from __future__ import annotations

import base64
import json
import logging
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from azure.storage.queue import QueueClient

from dev.fakes.identity import LocalIssuer
from dev.fakes.sandbox_ehr import SAMPLE_APPOINTMENTS, SandboxEhr
from shared.auth.principal import Principal, Role
from shared.core.dates import local_time
from shared.hl7.siu import AppointmentStatus
from shared.messaging.delivery import DELIVERY, RECEIVED
from shared.messaging.models import OptOut
from shared.messaging.segments import segments
from shared.messaging.tables import OptOutRepository, OutboxRepository, SmsMessageRepository
from shared.runtime import get_runtime
from shared.scheduling.tables import ReminderIndexRepository
from shared.setup.models import Organisation
from shared.setup.tables import FhirEndpointRepository
from shared.visits.models import appointment_key
from shared.visits.tables import AppointmentRepository
from tests.conftest import FUNCTION_KEY, AppHost, GraphMeetings
from tests.support.certs import sign
from tests.support.clinic import KEY, PHONE, Clinic, deliver
from tests.support.hl7 import siu
from tests.support.notifications import event_grid_event, sms_delivery_report, sms_received, subscription_validation
from tests.support.portal import Tenant, approved_endpoint, new_tenant, problem
from tests.support.texts import sent_texts
from tests.support.visits import JOIN_LINK, follow_join_link, launch


def organisation(clinic: Clinic) -> Organisation:
    principal = Principal(clinic.tenant.id, "t", "t@x.org", frozenset({Role.ADMIN}))
    return get_runtime().setup.organisations.get(principal)


def texts(clinic: Clinic) -> list[tuple[str, str]]:
    records = get_runtime().platform.tables.data(organisation(clinic), SmsMessageRepository).iterate(clinic.endpoint)
    return sorted((r.type, r.status) for r in records)


def key(clinic: Clinic) -> str:
    return appointment_key(clinic.tenant.id, clinic.endpoint, "csn:778899001")


def test_booking_reschedule_and_cancel(app: AppHost, clinic: Clinic, http: httpx.Client) -> None:
    runtime = get_runtime()
    org = organisation(clinic)
    deliver(app, clinic, siu("S12", clinic.start))
    stored = runtime.platform.tables.data(org, AppointmentRepository).get(clinic.endpoint, key(clinic))
    assert (stored.start, stored.status, stored.phone) == (clinic.start, AppointmentStatus.BOOKED, PHONE)
    due = clinic.start - timedelta(minutes=60)
    index = runtime.platform.tables.data(org, ReminderIndexRepository)
    due_then = index.iterate(due.strftime("%Y%m%d%H%M"))  # every organisation's of that minute: other tests' too
    assert [r.appointment_key for r in due_then if r.endpoint_id == clinic.endpoint] == [key(clinic)]
    assert texts(clinic) == [("scheduled", "sent")]
    outbox = sent_texts(clinic.tenant.id)
    scheduled = next(m for m in outbox if "booked" in m["body"])
    # Kept in the organisation's geography, the link without its token; the whole text only in memory.
    assert runtime.platform.tables.control(OutboxRepository).find(clinic.tenant.id, scheduled["id"]) is None
    kept = runtime.platform.tables.data(org, OutboxRepository).get(clinic.tenant.id, scheduled["id"])
    shown = clinic.tenant.call("GET", "portal/sms/outbox").json()["items"]
    assert next(m["body"] for m in shown if m["id"] == scheduled["id"]) == kept.body  # what the portal shows
    # The dev host's /dev/outbox (never the function app's) hands the whole texts to the signed-in admin only.
    bearer = {"Authorization": f"Bearer {clinic.tenant.token('admin@northclinic.example', ['Connector.Admin'])}"}
    assert http.get("/dev/outbox").status_code == 401
    whole = http.get("/dev/outbox", headers=bearer).json()["items"]
    assert next(m["body"] for m in whole if m["id"] == scheduled["id"]) == scheduled["body"]
    assert "/api/join#\u2026" in kept.body and kept.body != scheduled["body"] and "/api/join#" in scheduled["body"]
    assert "North Clinic" in scheduled["body"] and "/api/join#" in scheduled["body"]
    local = clinic.start.astimezone(ZoneInfo("America/Chicago"))  # the endpoint's zone; the organisation texts the US
    hour, half = local.hour % 12 or 12, "AM" if local.hour < 12 else "PM"
    assert f"booked for {local:%a, %b} {local.day} at {hour}:{local:%M} {half} {local.tzname()}." in scheduled["body"]
    [record] = get_runtime().platform.tables.data(org, SmsMessageRepository).iterate(clinic.endpoint)
    assert record.segments == segments(scheduled["body"]).count > 1  # a long link: two segments; the report counts
    assert scheduled["to_masked"].endswith("23") and PHONE not in scheduled["to_masked"]
    link = re.search(JOIN_LINK, scheduled["body"])
    assert link is not None

    # The same message again: nothing changes, nothing is sent.
    deliver(app, clinic, siu("S12", clinic.start, control="MSG0001"))
    assert texts(clinic) == [("scheduled", "sent")]

    later = clinic.start + timedelta(hours=3)
    deliver(app, clinic, siu("S13", later, sent=datetime.now(UTC) + timedelta(seconds=5)))
    assert runtime.platform.tables.data(org, AppointmentRepository).get(clinic.endpoint, key(clinic)).start == later
    assert texts(clinic) == [("rescheduled", "sent"), ("scheduled", "sent")]
    old_slot = index.iterate(due.strftime("%Y%m%d%H%M"))
    assert [r for r in old_slot if r.endpoint_id == clinic.endpoint] == []  # the old reminder slot is gone

    # An older message arriving late changes nothing.
    deliver(app, clinic, siu("S14", clinic.start, sent=datetime.now(UTC) - timedelta(minutes=5), control="OLD1"))
    assert runtime.platform.tables.data(org, AppointmentRepository).get(clinic.endpoint, key(clinic)).start == later

    deliver(app, clinic, siu("S15", later, sent=datetime.now(UTC) + timedelta(seconds=10)))
    cancelled = runtime.platform.tables.data(org, AppointmentRepository).get(clinic.endpoint, key(clinic))
    assert cancelled.status == AppointmentStatus.CANCELLED and cancelled.reminder_due_at is None
    assert texts(clinic) == [("cancelled", "sent"), ("rescheduled", "sent"), ("scheduled", "sent")]
    page = follow_join_link(http, link.group(0).split("North")[0])
    assert page.status_code == 410 and "cancelled" in page.text  # even though its window is days away


def test_the_patients_language_is_kept_as_a_locale_else_the_endpoints_default(app: AppHost, clinic: Clinic) -> None:
    changed = clinic.tenant.call("PATCH", f"portal/endpoints/{clinic.endpoint}", json={"patient_locale": "es_US"})
    assert changed.status_code == 200 and changed.json()["patient_locale"] == "es_US"
    assert changed.json()["status"] == "approved"  # the EHR is not involved: no new approval
    problem(clinic.tenant.call("PATCH", f"portal/endpoints/{clinic.endpoint}", json={"patient_locale": "fr_FR"}), 400)
    appointments = get_runtime().platform.tables.data(organisation(clinic), AppointmentRepository)
    deliver(app, clinic, siu("S12", clinic.start))  # no PID-15: the endpoint's default
    assert appointments.get(clinic.endpoint, key(clinic)).locale == "es_US"
    sent = datetime.now(UTC) + timedelta(seconds=5)
    deliver(app, clinic, siu("S14", clinic.start, sent=sent, language="ENG^English^HL70296"))
    stored = appointments.get(clinic.endpoint, key(clinic))
    assert stored.locale == "en_US"
    assert "English" not in json.dumps(stored.model_dump(mode="json"))  # the code of a locale, nothing more


def test_a_spanish_speaking_patient_is_texted_in_spanish_an_english_speaking_one_in_english(
    app: AppHost, clinic: Clinic
) -> None:
    path = f"portal/endpoints/{clinic.endpoint}/sms-settings"
    settings = clinic.tenant.call("GET", path).json()
    own = {"es_US": {"reminder": "{clinic}: le esperamos el {date} a las {time}: {link}"}}
    settings = {k: v for k, v in settings.items() if k not in {"endpoint_id", "updated_at"}}
    refused = problem(clinic.tenant.call("PUT", path, json=settings | {"locale_templates": {"fr_FR": {}}}), 400)
    assert [error["field"] for error in refused["errors"]] == ["locale_templates.fr_FR.[key]"]
    assert clinic.tenant.call("PUT", path, json=settings | {"locale_templates": own}).status_code == 200
    saved = clinic.tenant.call("GET", path).json()["locale_templates"]
    assert saved["es_US"]["reminder"] == own["es_US"]["reminder"] and saved["es_US"]["scheduled"] is None
    deliver(app, clinic, siu("S12", clinic.start, language="es"))  # no wording of its own: the shipped translation
    other = siu("S12", clinic.start, control="MSG0002", language="ENG^English^HL70296").replace(
        b"778899001", b"7788002"
    )
    deliver(app, clinic, other)
    bodies = [m["body"] for m in sent_texts(clinic.tenant.id)]
    [spanish] = [body for body in bodies if "consulta por video" in body]
    [english] = [body for body in bodies if "video visit is booked" in body]
    when = local_time(clinic.start, time_zone="America/Chicago", locale="es_US")
    assert f"North Clinic: su consulta por video es el {when.date} a las {when.time}. Únase aquí:" in spanish
    assert re.search(r" [ap]\.m\. C[SD]T\.", spanish) and "Responda STOP" in spanish and "/api/join#" in spanish
    when = local_time(clinic.start, time_zone="America/Chicago", locale="en_US")
    assert f"booked for {when.date} at {when.time}." in english and "Reply STOP to opt out." in english


def test_an_update_text_goes_out_when_the_end_or_the_clinician_changes(app: AppHost, clinic: Clinic) -> None:
    deliver(app, clinic, siu("S12", clinic.start, control="UPD1"))
    assert texts(clinic) == [("scheduled", "sent")]
    later = datetime.now(UTC)
    # Longer: the same start, a later end.
    deliver(app, clinic, siu("S14", clinic.start, sent=later + timedelta(seconds=5), control="UPD2", minutes=45))
    assert texts(clinic) == [("rescheduled", "sent"), ("scheduled", "sent")]
    # Another clinician (AIP-3): the patient is told.
    deliver(app, clinic, siu("S14", clinic.start, later + timedelta(seconds=10), "UPD3", minutes=45, provider="5678"))
    assert texts(clinic) == [("rescheduled", "sent"), ("rescheduled", "sent"), ("scheduled", "sent")]
    stored = (
        get_runtime()
        .platform.tables.data(organisation(clinic), AppointmentRepository)
        .get(clinic.endpoint, key(clinic))
    )
    assert (stored.end - stored.start, stored.provider_id) == (timedelta(minutes=45), "5678")
    # Nothing the patient was told changed: no text.
    deliver(app, clinic, siu("S14", clinic.start, later + timedelta(seconds=15), "UPD4", minutes=45, provider="5678"))
    assert len(texts(clinic)) == 3


def test_opt_out_is_honoured(app: AppHost, clinic: Clinic) -> None:
    runtime = get_runtime()
    number_hash = runtime.messaging.sms.number_hash(PHONE)
    runtime.platform.tables.data(organisation(clinic), OptOutRepository).upsert(
        OptOut(number_hash=number_hash, sender=clinic.sender, opted_out_at=datetime.now(UTC))
    )
    deliver(app, clinic, siu("S12", clinic.start, control="OPT1"))
    assert texts(clinic) == [("scheduled", "opted_out")]


def test_no_phone_number_in_any_log_line(app: AppHost, clinic: Clinic, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        deliver(app, clinic, siu("S12", clinic.start, control="LOG1"))
        deliver(app, clinic, siu("S15", clinic.start, sent=datetime.now(UTC) + timedelta(seconds=5)))
    assert caplog.records, "expected log lines"
    for record in caplog.records:
        line = record.getMessage()
        # The patient's number; the organisation's own sender number (+1 833 555-01xx locally) may be a table key.
        assert "2175550123" not in line and "217555" not in line, line
        assert "Doe" not in line and "jane.doe" not in line, line


def events(app: AppHost, payload: object, key: str | None = FUNCTION_KEY) -> httpx.Response:
    params = {"code": key} if key else {}
    return httpx.post(f"{app.server.url}/api/events/sms", json=payload, params=params)


def test_event_grid_handshake_needs_the_function_key(app: AppHost) -> None:
    validation = [subscription_validation("512d38b6-c7b8-40c8-89fe-f46f9e9622b6")]
    assert events(app, validation, key=None).status_code == 401
    answer = events(app, validation)
    assert answer.status_code == 200
    assert answer.json() == {"validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}
    assert events(app, {"not": "a list"}).status_code == 400
    for data in ("a string", [1, 2], 7):  # an event whose data is not an object: 400, never 500
        for kind in (DELIVERY, RECEIVED):
            assert events(app, [event_grid_event(kind, data)]).status_code == 400


def test_a_number_of_another_country_is_not_texted_and_counted_in_the_sms_report(app: AppHost, clinic: Clinic) -> None:
    """The organisation texts in the US (the default): a UK mobile number in PID-13 is not texted."""
    uk = siu("S12", clinic.start, control="GB1").replace(b"^PRN^CP^^1^217^5550123", b"^PRN^CP^^44^7400^123456")
    deliver(app, clinic, uk)
    stored = (
        get_runtime()
        .platform.tables.data(organisation(clinic), AppointmentRepository)
        .get(clinic.endpoint, key(clinic))
    )
    assert (stored.phone, stored.phone_problem) == (None, "unsupported country")
    assert texts(clinic) == [("scheduled", "skipped")]
    report = clinic.tenant.call("GET", "portal/reports/sms?days=7").json()
    assert report["totals"]["skipped"] == 1
    assert report["skip_reasons"] == {"the phone number is of another country than the organisation's SMS country": 1}
    exported = clinic.tenant.call("GET", "portal/reports/sms?days=7&format=csv").text.splitlines()
    assert exported[0].endswith(",skipped") and exported[-1].endswith(",1")
    # Numbers are acquired in the organisation's SMS country only.
    refused = clinic.tenant.call("POST", "portal/phone-numbers", json={"country_code": "GB"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "country_code"


def test_an_organisation_texts_in_the_us_unless_the_deployment_allows_its_country(
    http: httpx.Client, identity: LocalIssuer
) -> None:
    tenant = new_tenant(http, identity)
    body = {"display_name": "London Clinic", "geography": "EU", "sms_country": "GB"}
    refused = tenant.call("POST", "portal/organisation", json=body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"] == [
        {"field": "sms_country", "message": "not allowed on this connector (allowed: US)"}
    ]
    created = tenant.call("POST", "portal/organisation", json={**body, "sms_country": "US"})
    assert created.status_code == 201 and created.json()["sms_country"] == "US"


def test_delivery_reports_and_stop_start(app: AppHost, clinic: Clinic) -> None:
    runtime = get_runtime()
    org = organisation(clinic)
    deliver(app, clinic, siu("S12", clinic.start, control="DR1"))
    [record] = runtime.platform.tables.data(org, SmsMessageRepository).iterate(clinic.endpoint)
    report = sms_delivery_report(
        message_id=str(record.provider_message_id),
        sender=clinic.sender,
        to=PHONE,
        status="Delivered",
        details="No error.",
        tag=f"{clinic.tenant.id}|{clinic.endpoint}|{record.id}",
    )
    assert events(app, [report]).status_code == 200
    assert runtime.platform.tables.data(org, SmsMessageRepository).get(clinic.endpoint, record.id).status == "delivered"

    def inbound(text: str) -> dict[str, object]:
        return sms_received(message_id="in-1", sender=PHONE, to=clinic.sender, message=text)

    assert events(app, [inbound("Stop ")]).status_code == 200
    later = clinic.start + timedelta(hours=1)
    deliver(app, clinic, siu("S13", later, sent=datetime.now(UTC) + timedelta(seconds=5)))
    assert ("rescheduled", "opted_out") in texts(clinic)
    assert events(app, [inbound("START")]).status_code == 200
    deliver(app, clinic, siu("S13", later + timedelta(hours=1), sent=datetime.now(UTC) + timedelta(seconds=10)))
    assert texts(clinic).count(("rescheduled", "sent")) == 1


def test_the_sandbox_ehr_feed_is_signed_and_accepted(app: AppHost, tenant: Tenant, sandbox: SandboxEhr) -> None:
    endpoint = approved_endpoint(tenant, sandbox)
    pem_text = httpx.get(f"{sandbox.url}/_sandbox/hl7/certificate").text
    assert tenant.call("PUT", "portal/certificates/test", json={"certificate": pem_text}).status_code == 200
    start = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    sent = httpx.post(
        f"{sandbox.url}/_sandbox/hl7/send", json={"endpoint_id": endpoint, "event": "S12", "start": start}, timeout=30
    ).json()
    assert sent["status"] == 200 and sent["ack"].split("\r")[1].startswith("MSA|AA|SBX")


def test_a_join_link_follows_its_appointment_when_it_is_rescheduled(
    app: AppHost, clinic: Clinic, http: httpx.Client, graph_meetings: GraphMeetings
) -> None:
    """The link in the booking text carries the booked window; after a reschedule the appointment's current
    window counts: the link opens for the earlier time, and a later time closes it until then."""
    booked = (datetime.now(UTC) + timedelta(hours=3)).replace(second=0, microsecond=0)
    deliver(app, clinic, siu("S12", booked, control="JOIN1"))
    outbox = sent_texts(clinic.tenant.id)
    found = re.search(JOIN_LINK, next(m for m in outbox if "booked" in m["body"])["body"])
    assert found is not None
    link = found.group(0)
    early = follow_join_link(http, link)
    assert early.status_code == 400 and "not open yet" in early.text

    soon = (datetime.now(UTC) + timedelta(minutes=10)).replace(second=0, microsecond=0)
    deliver(app, clinic, siu("S13", soon, sent=datetime.now(UTC) + timedelta(seconds=5), control="JOIN2"))
    assert follow_join_link(http, link).status_code == 302  # the booked window would still be closed for hours

    deliver(app, clinic, siu("S13", booked + timedelta(days=1), sent=datetime.now(UTC) + timedelta(seconds=10)))
    assert follow_join_link(http, link).status_code == 400  # moved to tomorrow: not open yet, whatever the link says


def test_a_change_that_fails_for_good_leaves_nothing_identifying_in_the_poison_queue(
    app: AppHost, clinic: Clinic, environment: dict[str, str]
) -> None:
    body = siu("S12", clinic.start, control="POISON1")
    answer = httpx.post(
        f"{app.server.url}/api/hl7/{clinic.endpoint}",
        content=body,
        headers={"Content-Type": "application/hl7-v2", "HL7-Signature": sign(KEY, body)},
    )
    assert answer.status_code == 200
    # The endpoint disappears before the change is applied: every try fails, and the message goes to poison.
    get_runtime().platform.tables.control(FhirEndpointRepository).delete(clinic.tenant.id, clinic.endpoint)
    app.pump_retrying_at_once()
    poison = QueueClient.from_connection_string(environment["DATA_STORAGE_EU"], "hl7-appointments-poison")
    bodies = [base64.b64decode(m.content).decode() for m in poison.peek_messages(max_messages=32)]
    mine = [b for b in bodies if clinic.endpoint in b]
    assert len(mine) == 1 and "POISON1" in mine[0]
    for identifying in ("Doe", "Jane", "19800101", "E100200", "778899001", "5550123", "jane.doe"):
        assert identifying not in mine[0]  # no name, date of birth, MRN, visit number or phone number
    assert json.loads(mine[0])["phone_sealed"]  # the endpoint sends texts: its number travels sealed


def test_each_patient_of_a_group_visit_joins_the_group_meeting_from_their_text(
    app: AppHost, clinic: Clinic, sandbox: SandboxEhr, http: httpx.Client, graph_meetings: GraphMeetings
) -> None:
    """Two patients booked into one group visit (SCH-4, the Placer Group Number, names the group as the launches'
    conference ID does): each gets a text of their own, and each text's link opens the group's meeting, the one
    the clinician's launch of the group (Epic's %CONFERENCEID%) opens."""
    soon = (datetime.now(UTC) + timedelta(minutes=10)).replace(second=0, microsecond=0)
    group = SAMPLE_APPOINTMENTS[2].conference_id  # "GRP42", as the sandbox EHR's group launches carry it
    links: list[str] = []
    for patient, (csn, digits) in enumerate((("778899003", b"5550131"), ("778899004", b"5550132"))):
        body = (
            siu("S12", soon, control=f"GRP{patient}")
            .replace(b"FL90210^EPIC||||", b"FL9021" + str(patient).encode() + b"^EPIC||" + group.encode() + b"||")
            .replace(b"778899001", csn.encode())
            .replace(b"^217^5550123", b"^217^" + digits)
        )
        deliver(app, clinic, body)
        outbox = sent_texts(clinic.tenant.id)
        [text] = [m for m in outbox if m["to_masked"].endswith(digits[-2:].decode()) and "booked" in m["body"]]
        found = re.search(JOIN_LINK, text["body"])
        assert found is not None
        links.append(found.group(0))
    assert links[0] != links[1]  # one link per patient, each bound to the patient's own appointment
    before = len(graph_meetings.stub.requests)
    joined = [follow_join_link(http, link) for link in links]
    assert [answer.status_code for answer in joined] == [302, 302], [a.text for a in joined]
    meeting = joined[0].headers["Location"].split("?")[0]
    assert joined[1].headers["Location"].split("?")[0] == meeting
    answer, _ = launch(http, sandbox, SAMPLE_APPOINTMENTS[2], "provider")
    assert answer.status_code == 302 and answer.headers["Location"].split("?")[0] == meeting
    # One meeting, created once: at the first patient's join.
    assert sum(1 for _, path in graph_meetings.stub.requests[before:] if path.endswith("createOrGet")) == 1
    # ... for the appointment's times, although the group's meeting has no appointment of its own.
    [meeting_times] = [
        (m["startDateTime"], m["endDateTime"])
        for m in graph_meetings.stub.meetings.values()
        if m["joinWebUrl"].split("?")[0] == meeting
    ]
    assert datetime.fromisoformat(meeting_times[0].replace("Z", "+00:00")) == soon
