"""Up to three reminders per endpoint, each with its own time and template: one index entry and one text each, a
reschedule moves them all, a cancelled appointment gets none, and settings stored with one reminder keep one."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from shared.core.settings import Geography
from shared.messaging.models import SmsSettings
from shared.messaging.tables import SmsMessageRepository
from shared.scheduling.appointments import minute_of
from shared.scheduling.models import ReminderDue
from shared.scheduling.tables import ReminderIndexRepository
from shared.storage.entity import from_entity
from shared.visits.tables import AppointmentRepository
from tests.conftest import AppHost
from tests.integration.test_reminders import change_reminders
from tests.support.clinic import Clinic
from tests.support.portal import problem
from tests.support.texts import NOW, Setup, book, send_queued, sent_texts

ROWS = Path(__file__).parents[1] / "fixtures" / "rows" / "0.1.0"

THREE = {
    "reminder_minutes_before": 1440,
    "reminder2_minutes_before": 120,
    "reminder3_minutes_before": 10,
}


def three_reminders(setup: Setup) -> None:
    current = setup.runtime.messaging.sms_setup.settings(setup.admin, setup.endpoint_id)
    assert current is not None
    templates = current.templates.model_copy(
        update={"reminder2": "{clinic}: in two hours, {time}: {link}", "reminder3": "{clinic}: starting soon: {link}"}
    )
    change_reminders(setup, **THREE, templates=templates)


def sent(setup: Setup) -> list[tuple[str, str]]:
    records = setup.runtime.platform.tables.data(setup.organisation, SmsMessageRepository).iterate(setup.endpoint_id)
    return sorted((r.type, r.appointment_key) for r in records if r.type.startswith("reminder") and r.status == "sent")


def bodies(setup: Setup) -> list[str]:
    return [m["body"] for m in reversed(sent_texts(setup.organisation.tenant_id, setup.runtime))]  # oldest first


def index_minutes(setup: Setup) -> list[tuple[str, str]]:
    index = setup.runtime.platform.tables.data(setup.organisation, ReminderIndexRepository)
    return sorted((entry.minute, entry.kind) for entry in index.iterate())


def at(setup: Setup, hours: int, minutes: int = 0) -> int:
    """Move the clock, tick, send: the reminders sent by then."""
    setup.clock.set(NOW + timedelta(hours=hours, minutes=minutes))
    setup.runtime.scheduling.reminders.tick(Geography.EU)
    send_queued(setup.runtime)
    return len(sent(setup))


def test_three_reminders_each_go_once_with_their_own_template(setup: Setup) -> None:
    setup.runtime.scheduling.reminders.tick(Geography.EU)
    three_reminders(setup)
    start = NOW + timedelta(days=2)
    key = book(setup, start, "T1")
    send_queued(setup.runtime)  # the booking confirmation
    stored = setup.runtime.platform.tables.data(setup.organisation, AppointmentRepository).get(setup.endpoint_id, key)
    assert (stored.reminder_due_at, stored.reminder2_due_at, stored.reminder3_due_at) == (
        start - timedelta(days=1),
        start - timedelta(hours=2),
        start - timedelta(minutes=10),
    )
    assert [kind for _, kind in index_minutes(setup)] == ["reminder", "reminder2", "reminder3"]
    assert at(setup, 24) == 1
    assert at(setup, 24, 30) == 1  # read only what is due: nothing more until the next one
    assert at(setup, 46) == 2
    assert at(setup, 47, 50) == 3
    assert sent(setup) == [("reminder", key), ("reminder2", key), ("reminder3", key)]
    texts = bodies(setup)[1:]  # after the booking confirmation
    assert "reminder, your video visit" in texts[0]
    assert texts[1].startswith("North: in two hours,") and texts[2].startswith("North: starting soon:")
    assert index_minutes(setup) == []
    # A second tick over the same minutes (a copy of a batch) sends nothing twice.
    send_queued(setup.runtime)
    assert len(sent(setup)) == 3


def test_a_reschedule_moves_every_reminder_and_a_cancellation_drops_them(setup: Setup) -> None:
    setup.runtime.scheduling.reminders.tick(Geography.EU)
    three_reminders(setup)
    start = NOW + timedelta(days=2)
    book(setup, start, "T2")
    later = start + timedelta(hours=5)
    book(setup, later, "T2", event="S13", sent=NOW + timedelta(seconds=1))
    send_queued(setup.runtime)
    expected = [
        (minute_of(later - timedelta(days=1)), "reminder"),
        (minute_of(later - timedelta(hours=2)), "reminder2"),
        (minute_of(later - timedelta(minutes=10)), "reminder3"),
    ]
    assert index_minutes(setup) == expected  # the old minutes are empty
    book(setup, later, "T2", event="S15", sent=NOW + timedelta(seconds=2))
    send_queued(setup.runtime)
    assert index_minutes(setup) == []
    assert at(setup, 53) == 0
    assert sent(setup) == []


def test_adding_reminders_later_indexes_them_and_removing_one_drops_its_entry(setup: Setup) -> None:
    setup.runtime.scheduling.reminders.tick(Geography.EU)
    start = NOW + timedelta(days=2)
    book(setup, start, "T3")  # one reminder, an hour before (the fixture's)
    assert [kind for _, kind in index_minutes(setup)] == ["reminder"]
    three_reminders(setup)
    assert [kind for _, kind in index_minutes(setup)] == ["reminder", "reminder2", "reminder3"]
    change_reminders(setup, reminder2_minutes_before=None)
    assert index_minutes(setup) == [
        (minute_of(start - timedelta(days=1)), "reminder"),
        (minute_of(start - timedelta(minutes=10)), "reminder3"),
    ]
    change_reminders(setup, reminder_enabled=False)
    assert index_minutes(setup) == []


def test_a_past_appointment_gets_no_reminder(setup: Setup) -> None:
    setup.runtime.scheduling.reminders.tick(Geography.EU)
    three_reminders(setup)
    book(setup, NOW + timedelta(minutes=5), "T4")  # every reminder's time has passed at booking
    assert index_minutes(setup) == []
    assert at(setup, 1) == 0


def test_settings_and_index_entries_stored_with_one_reminder_read_as_one() -> None:
    [row] = json.loads((ROWS / "smssettings.json").read_text())["rows"]
    settings = from_entity(SmsSettings, row)
    assert settings.reminder_minutes() == {"reminder": 60}
    assert settings.sends("reminder") and not settings.sends("reminder2")
    assert settings.templates.reminder2 == settings.templates.reminder  # the default until the admin writes one
    for row in json.loads((ROWS / "reminderindex.json").read_text())["rows"]:
        assert from_entity(ReminderDue, row).kind == "reminder"


def test_the_portal_takes_up_to_three_reminders_at_distinct_times(app: AppHost, clinic: Clinic) -> None:
    path = f"portal/endpoints/{clinic.endpoint}/sms-settings"
    settings = {"clinic_name": "North Clinic", "sender_number": clinic.sender, **THREE}
    saved = clinic.tenant.call("PUT", path, json=settings)
    assert saved.status_code == 200, saved.text
    assert {k: saved.json()[k] for k in THREE} == THREE
    same = problem(clinic.tenant.call("PUT", path, json=settings | {"reminder3_minutes_before": 120}), 422)
    assert "same time" in same["detail"]
    problem(clinic.tenant.call("PUT", path, json=settings | {"reminder2_minutes_before": 1}), 400)
    assert clinic.tenant.call("GET", path).json()["reminder3_minutes_before"] == 10
