"""Replies are a trust boundary: anyone can text the clinic's number, and anyone can post to /api/events/sms.
Without the function key nothing is applied; a "C" confirms only the texter's own visit; whatever the reply, the
answer goes to the texter alone, never says more than the clinic's number, and at most once a day."""

from __future__ import annotations

from typing import Any

from shared.runtime import get_runtime
from shared.visits.tables import AppointmentRepository
from tests.conftest import AppHost
from tests.integration.test_replies import CLINIC_PHONE, outbox, set_settings
from tests.integration.test_scheduling import events, key, organisation
from tests.support.clinic import Clinic, deliver
from tests.support.hl7 import siu
from tests.support.notifications import sms_received
from tests.support.texts import sent_texts

STRANGER = "+12175559876"


def inbound(clinic: Clinic, text: Any, sender: str, event_id: str) -> list[dict[str, Any]]:
    return [sms_received(message_id=event_id, sender=sender, to=clinic.sender, message=text)]


def confirmed(clinic: Clinic) -> bool:
    appointments = get_runtime().platform.tables.data(organisation(clinic), AppointmentRepository)
    return appointments.get(clinic.endpoint, key(clinic)).confirmed_at is not None


def test_a_forged_reply_without_the_function_key_confirms_nothing(app: AppHost, clinic: Clinic) -> None:
    deliver(app, clinic, siu("S12", clinic.start))
    assert events(app, inbound(clinic, "C", "+12175550123", "x-1"), key=None).status_code == 401
    assert events(app, inbound(clinic, "C", "+12175550123", "x-2"), key="guessed").status_code == 401
    app.pump()
    assert not confirmed(clinic)
    assert len(outbox(clinic)) == 1


def test_a_c_from_another_number_confirms_no_one_and_tells_it_only_the_clinics_number(
    app: AppHost, clinic: Clinic
) -> None:
    set_settings(clinic, clinic_phone=CLINIC_PHONE)
    deliver(app, clinic, siu("S12", clinic.start))
    for n in range(3):
        assert events(app, inbound(clinic, "C", STRANGER, f"s-{n}")).status_code == 200
        app.pump()
    assert not confirmed(clinic)
    answers = sent_texts(clinic.tenant.id)
    to_stranger = [m for m in answers if m["to_masked"].endswith(STRANGER[-2:])]
    assert [m["body"] for m in to_stranger] == [
        f"North Clinic: replies to this number are not read. To reach us, call {CLINIC_PHONE}."
    ]


def test_replies_that_are_not_text_are_ignored_not_failed(app: AppHost, clinic: Clinic) -> None:
    set_settings(clinic, clinic_phone=CLINIC_PHONE)
    deliver(app, clinic, siu("S12", clinic.start))
    for n, text in enumerate(({"C": True}, ["YES"], None, 7, "C" * 5000)):
        assert events(app, inbound(clinic, text, "+12175550123", f"o-{n}")).status_code == 200
    app.pump()
    assert not confirmed(clinic)
    assert len(outbox(clinic)) == 2  # the booking, and one answer for the day
