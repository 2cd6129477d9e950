"""Replies to texts, through Event Grid's inbound-SMS deliveries at /api/events/sms: "C", "YES" and "SÍ" confirm the
next visit (answered in the patient's language, recorded on the appointment, written back to a FHIR EHR with
If-Match); HELP gets the clinic's number where the carrier does not answer it; anything else gets the clinic's
number once a day; STOP and START work as before; the SMS report counts confirmations."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from dev.fakes.sandbox_ehr import SAMPLE_APPOINTMENTS, SandboxEhr
from shared.messaging.tables import ReplyMarkerRepository
from shared.runtime import get_runtime
from shared.visits.tables import AppointmentRepository
from tests.conftest import AppHost, GraphMeetings
from tests.integration.test_scheduling import events, key, organisation, texts
from tests.support.clinic import PHONE, Clinic, deliver
from tests.support.hl7 import siu
from tests.support.notifications import sms_received
from tests.support.texts import sent_texts
from tests.support.visits import follow_join_link, launch

CLINIC_PHONE = "+12175550100"
BACKEND_CLIENT = "connector-backend"


def reply(app: AppHost, clinic: Clinic, text: str, event_id: str, sender: str | None = None) -> None:
    event = sms_received(message_id=event_id, sender=PHONE, to=sender or clinic.sender, message=text)
    assert events(app, [event]).status_code == 200
    app.pump()


def outbox(clinic: Clinic) -> list[str]:
    items = sent_texts(clinic.tenant.id)
    return [m["body"] for m in sorted(items, key=lambda m: m["created_at"])]


def set_settings(clinic: Clinic, **changes: object) -> None:
    path = f"portal/endpoints/{clinic.endpoint}/sms-settings"
    current = clinic.tenant.call("GET", path).json()
    body = {k: v for k, v in current.items() if k not in {"endpoint_id", "updated_at"}} | changes
    saved = clinic.tenant.call("PUT", path, json=body)
    assert saved.status_code == 200, saved.text


def sms_report(clinic: Clinic) -> dict[str, object]:
    answer = clinic.tenant.call("GET", "portal/reports/sms", params={"days": 7})
    assert answer.status_code == 200, answer.text
    report: dict[str, object] = answer.json()
    return report


def test_c_confirms_the_next_visit_once_and_the_report_counts_it(
    app: AppHost, clinic: Clinic, caplog: pytest.LogCaptureFixture
) -> None:
    set_settings(clinic, clinic_phone=CLINIC_PHONE)
    deliver(app, clinic, siu("S12", clinic.start))
    later = siu("S12", clinic.start + timedelta(days=3), control="MSG0002").replace(b"778899001", b"7788002")
    deliver(app, clinic, later)  # a later visit of the same patient: not the one confirmed
    with caplog.at_level(logging.DEBUG):
        reply(app, clinic, " c ", "in-1")
    appointments = get_runtime().platform.tables.data(organisation(clinic), AppointmentRepository)
    assert appointments.get(clinic.endpoint, key(clinic)).confirmed_at is not None
    others = [a for a in appointments.iterate(clinic.endpoint) if a.appointment_key != key(clinic)]
    assert [a.confirmed_at for a in others] == [None]
    confirmation = outbox(clinic)[-1]
    assert confirmation.startswith("North Clinic: thank you, your video visit on ") and "is confirmed." in confirmation
    assert ("confirmed", "sent") in texts(clinic)
    assert PHONE not in caplog.text
    reply(app, clinic, "YES", "in-2")  # a second confirmation: no second answer
    assert texts(clinic).count(("confirmed", "sent")) == 1
    assert len(outbox(clinic)) == 3
    assert sms_report(clinic)["confirmations"] == 1
    # The visit moves: the confirmation no longer holds.
    moved = siu("S13", clinic.start + timedelta(hours=2), control="MSG0003")
    deliver(app, clinic, moved)
    assert appointments.get(clinic.endpoint, key(clinic)).confirmed_at is None


def test_a_spanish_speaking_patient_confirms_with_si(app: AppHost, clinic: Clinic) -> None:
    deliver(app, clinic, siu("S12", clinic.start, language="es"))
    reply(app, clinic, "Sí.", "in-3")
    assert "gracias, su consulta por video del " in outbox(clinic)[-1]
    assert "está confirmada. Únase aquí:" in outbox(clinic)[-1]


def test_without_confirmations_turned_on_a_c_is_just_a_reply(app: AppHost, clinic: Clinic) -> None:
    set_settings(clinic, confirm_by_reply=False)
    deliver(app, clinic, siu("S12", clinic.start))
    reply(app, clinic, "C", "in-4")  # and without a clinic phone number there is nothing to answer
    appointments = get_runtime().platform.tables.data(organisation(clinic), AppointmentRepository)
    assert appointments.get(clinic.endpoint, key(clinic)).confirmed_at is None
    assert len(outbox(clinic)) == 1


def test_any_other_reply_gets_the_clinics_number_once_a_day(app: AppHost, clinic: Clinic) -> None:
    set_settings(clinic, clinic_phone=CLINIC_PHONE)
    deliver(app, clinic, siu("S12", clinic.start))
    reply(app, clinic, "what time is it?", "in-5")
    reply(app, clinic, "hello??", "in-6")
    answers = [body for body in outbox(clinic) if CLINIC_PHONE in body]
    assert answers == [f"North Clinic: replies to this number are not read. To reach us, call {CLINIC_PHONE}."]
    markers = get_runtime().platform.tables.data(organisation(clinic), ReplyMarkerRepository)
    [marker] = list(markers.iterate(clinic.sender))
    assert PHONE not in str(marker.model_dump()) and marker.number_hash != PHONE
    markers.upsert(marker.model_copy(update={"day": "2020-01-01"}))  # as if the last answer was on another day
    reply(app, clinic, "hello again", "in-7")
    assert len([body for body in outbox(clinic) if CLINIC_PHONE in body]) == 2


def test_help_is_answered_on_a_geographic_number_and_left_to_the_carrier_on_toll_free(
    app: AppHost, clinic: Clinic
) -> None:
    set_settings(clinic, clinic_phone=CLINIC_PHONE)
    deliver(app, clinic, siu("S12", clinic.start))
    reply(app, clinic, "HELP", "in-8")  # the clinic's number is toll-free: ACS and the carrier answer HELP
    assert not [body for body in outbox(clinic) if CLINIC_PHONE in body]
    ordered = clinic.tenant.call("POST", "portal/phone-numbers", json={"number_type": "geographic"})
    assert ordered.status_code == 202, ordered.text
    app.pump()
    job = clinic.tenant.call("GET", ordered.headers["Location"].removeprefix("/api/")).json()
    assert job["status"] == "succeeded", job
    set_settings(clinic, sender_number=job["number"])
    reply(app, clinic, "help", "in-9", sender=job["number"])
    assert outbox(clinic)[-1] == (
        f"North Clinic: texts about your video visits. For help, call {CLINIC_PHONE}. Reply STOP to opt out."
    )


def test_stop_still_opts_out_and_nothing_answers_an_opted_out_number(app: AppHost, clinic: Clinic) -> None:
    set_settings(clinic, clinic_phone=CLINIC_PHONE)
    deliver(app, clinic, siu("S12", clinic.start))
    reply(app, clinic, "STOP", "in-10")
    reply(app, clinic, "C", "in-11")
    reply(app, clinic, "anything", "in-12")
    assert len(outbox(clinic)) == 1  # the booking text only
    reply(app, clinic, "YES", "in-13")  # YES opts in again (START), and confirms the visit
    assert "is confirmed." in outbox(clinic)[-1]


def test_a_confirmation_is_written_back_to_a_fhir_ehr_with_if_match(
    app: AppHost, clinic: Clinic, sandbox: SandboxEhr, http: httpx.Client, graph_meetings: GraphMeetings
) -> None:
    follow_up = SAMPLE_APPOINTMENTS[0]
    sandbox.register_backend_client(BACKEND_CLIENT, f"{app.server.url}/api/.well-known/jwks/{clinic.tenant.id}")
    writeback = {"adapter": "fhir", "client_id": BACKEND_CLIENT}
    saved = clinic.tenant.call("PUT", f"portal/endpoints/{clinic.endpoint}/writeback", json=writeback)
    assert saved.status_code == 200, saved.text
    deliver(app, clinic, siu("S12", clinic.start))
    answer, _ = launch(http, sandbox, follow_up, "provider")  # the visit's FHIR Appointment is named
    assert answer.status_code == 302, answer.text
    before = sandbox.writebacks.appointments[follow_up.id]["meta"]["versionId"]
    reply(app, clinic, "C", "in-14")
    [accepted] = [w.body for w in sandbox.writebacks.of_kind("participant_status")]
    actor = f"Patient/{follow_up.id}"
    assert accepted == {"id": follow_up.id, "actor": actor, "status": "accepted", "if_match": f'W/"{before}"'}
    stored = sandbox.writebacks.appointments[follow_up.id]
    assert stored["status"] == "booked" and int(stored["meta"]["versionId"]) == int(before) + 1
    page = httpx.get(f"{sandbox.url}/ehr/writebacks").text
    assert f"Appointment/{follow_up.id} participant Patient/{follow_up.id} -&gt; accepted" in page
    reply(app, clinic, "C", "in-15")  # already accepted: nothing written twice
    assert len(sandbox.writebacks.of_kind("participant_status")) == 1


def test_a_confirmation_made_before_the_visit_is_opened_reaches_the_ehr_at_its_launch(
    app: AppHost, clinic: Clinic, sandbox: SandboxEhr, http: httpx.Client, graph_meetings: GraphMeetings
) -> None:
    follow_up = SAMPLE_APPOINTMENTS[0]
    sandbox.register_backend_client(BACKEND_CLIENT, f"{app.server.url}/api/.well-known/jwks/{clinic.tenant.id}")
    writeback = {"adapter": "fhir", "client_id": BACKEND_CLIENT}
    assert clinic.tenant.call("PUT", f"portal/endpoints/{clinic.endpoint}/writeback", json=writeback).status_code == 200
    deliver(app, clinic, siu("S12", clinic.start))
    reply(app, clinic, "yes", "in-16")  # no launch yet: the EHR's Appointment is not known
    assert "is confirmed." in outbox(clinic)[-1]
    assert sandbox.writebacks.of_kind("participant_status") == []
    answer, _ = launch(http, sandbox, follow_up, "provider")
    assert answer.status_code == 302, answer.text
    [accepted] = [w.body for w in sandbox.writebacks.of_kind("participant_status")]
    assert (accepted["id"], accepted["status"]) == (follow_up.id, "accepted")


def test_a_confirmation_reaches_the_ehr_when_a_launch_names_a_meeting_the_patients_link_opened_first(
    app: AppHost, clinic: Clinic, sandbox: SandboxEhr, http: httpx.Client, graph_meetings: GraphMeetings
) -> None:
    follow_up = SAMPLE_APPOINTMENTS[0]
    sandbox.register_backend_client(BACKEND_CLIENT, f"{app.server.url}/api/.well-known/jwks/{clinic.tenant.id}")
    writeback = {"adapter": "fhir", "client_id": BACKEND_CLIENT}
    assert clinic.tenant.call("PUT", f"portal/endpoints/{clinic.endpoint}/writeback", json=writeback).status_code == 200
    deliver(app, clinic, siu("S12", datetime.now(UTC) + timedelta(minutes=10)))  # its link works now
    [link] = [t for t in outbox(clinic) if "/api/join#" in t][-1:]
    token = link.split("/api/join#", 1)[1].split()[0]
    opened = follow_join_link(http, f"{app.server.url}/api/join#{token}")  # the meeting, with no FHIR ID
    assert opened.status_code == 302, opened.text
    reply(app, clinic, "C", "in-17")
    assert sandbox.writebacks.of_kind("participant_status") == []  # the Appointment is not known yet
    answer, _ = launch(http, sandbox, follow_up, "provider")  # the clinician's launch names it
    assert answer.status_code == 302, answer.text
    [accepted] = [w.body for w in sandbox.writebacks.of_kind("participant_status")]
    assert (accepted["id"], accepted["status"]) == (follow_up.id, "accepted")
