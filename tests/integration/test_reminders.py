"""Reminder ticks and phone-number retention, with an injected clock, against Azurite."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from shared.core.settings import Geography
from shared.messaging.models import ReminderReindex, SmsSettingsUpdate
from shared.messaging.tables import SmsMessageRepository
from shared.scheduling.appointments import minute_of
from shared.scheduling.models import DueReminders, ReminderDue
from shared.scheduling.reminders import ReminderService
from shared.scheduling.tables import ReminderIndexRepository
from shared.storage.queue_names import REMINDER_REINDEX, REMINDERS_DUE, SMS_OUTBOUND
from shared.visits.tables import AppointmentRepository
from tests.support.texts import NOW, Setup, book, send_queued, sent_texts


def reminders_sent(setup: Setup) -> list[str]:
    records = setup.runtime.platform.tables.data(setup.organisation, SmsMessageRepository).iterate(setup.endpoint_id)
    return sorted(r.appointment_key for r in records if r.type == "reminder" and r.status == "sent")


def tick(setup: Setup) -> int:
    """A reminder tick, then the text queue run as its trigger would: the reminders sent."""
    before = len(reminders_sent(setup))
    setup.runtime.scheduling.reminders.tick(Geography.EU)
    send_queued(setup.runtime)
    return len(reminders_sent(setup)) - before


def test_a_reminder_is_sent_once_even_with_two_concurrent_ticks(setup: Setup) -> None:
    key = book(setup, NOW + timedelta(hours=3), "C1")
    send_queued(setup.runtime)  # the booking confirmation
    setup.runtime.scheduling.reminders.tick(Geography.EU)  # first run: sets the cursor, nothing is due yet
    setup.clock.set(NOW + timedelta(hours=2))  # the reminder's minute
    second = ReminderService(
        tables=setup.runtime.platform.tables,
        queues=setup.runtime.platform.geography_queues,
        dispatch=setup.runtime.messaging.dispatch,
        clock=setup.clock,
    )
    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(
            pool.map(lambda service: service.tick(Geography.EU), [setup.runtime.scheduling.reminders, second])
        )
    assert sum(r.queued for r in reports) >= 1  # both may queue it before either deletes the index entry
    assert send_queued(setup.runtime)["sent"] == 1
    assert reminders_sent(setup) == [key]
    setup.clock.advance(minutes=1)
    assert tick(setup) == 0
    assert reminders_sent(setup) == [key]


def test_a_tick_with_a_thousand_due_queues_them_in_ten_batches_reading_only_the_index(setup: Setup) -> None:
    setup.runtime.scheduling.reminders.tick(Geography.EU)
    index = setup.runtime.platform.tables.data(setup.organisation, ReminderIndexRepository)
    due = NOW + timedelta(minutes=30)
    for start in range(0, 1000, 100):
        index.transaction(
            [
                (
                    "upsert",
                    ReminderDue(
                        minute=minute_of(due),
                        tenant_id=setup.organisation.tenant_id,
                        endpoint_id=setup.endpoint_id,
                        appointment_key=f"k{n:04d}",
                        due_at=due,
                    ),
                )
                for n in range(start, start + 100)
            ]
        )
    setup.clock.set(due)
    report = setup.runtime.scheduling.reminders.tick(Geography.EU)
    assert (report.read, report.queued, report.batches) == (1000, 1000, 10)  # ten queue puts, then it returns
    assert setup.runtime.scheduling.reminders.tick(Geography.EU).read == 0  # the cursor moved on
    account = setup.runtime.platform.storage.for_geography(Geography.EU)
    batches = list(account.queue(REMINDERS_DUE).receive_messages(messages_per_page=32, max_messages=32))
    assert len(batches) == 10
    fanned = [
        setup.runtime.scheduling.reminders.fan_out(Geography.EU, DueReminders.model_validate_json(m.content))
        for m in batches
    ]
    assert fanned == [100] * 10
    for message in batches:  # handled, as the trigger's success would
        account.queue(REMINDERS_DUE).delete_message(message)
    queue = account.queue(SMS_OUTBOUND)
    assert (queue.get_queue_properties().approximate_message_count or 0) >= 1000
    assert list(index.iterate(minute_of(due))) == []  # queued as texts: the index entries are gone
    queue.clear_messages()


def test_a_tick_reads_only_what_is_due(setup: Setup) -> None:
    setup.runtime.scheduling.reminders.tick(Geography.EU)
    book(setup, NOW + timedelta(hours=2), "R1")
    book(setup, NOW + timedelta(hours=5), "R2")
    book(setup, NOW + timedelta(days=3), "R3")
    send_queued(setup.runtime)
    setup.clock.set(NOW + timedelta(hours=1))
    report = setup.runtime.scheduling.reminders.tick(Geography.EU)
    assert (report.read, report.queued) == (1, 1)
    assert send_queued(setup.runtime)["sent"] == 1


def test_a_visit_moved_so_its_reminder_falls_due_in_a_minute_already_ticked_still_gets_it(setup: Setup) -> None:
    """The tick at a minute's start queues that minute's reminders; a visit moved a few seconds later, its
    reminder due before the minute ends, gets it all the same (the next tick reads only later minutes)."""
    setup.runtime.scheduling.reminders.tick(Geography.EU)  # first run: the cursor
    key = book(setup, NOW + timedelta(days=2), "M1")
    send_queued(setup.runtime)
    setup.clock.set(NOW + timedelta(minutes=10))
    assert setup.runtime.scheduling.reminders.tick(Geography.EU).queued == 0  # this minute's tick has run
    setup.clock.set(NOW + timedelta(minutes=10, seconds=5))
    book(setup, NOW + timedelta(hours=1, minutes=10, seconds=40), "M1", event="S13", sent=setup.clock.now())
    send_queued(setup.runtime)  # the change's text, and the reminder due in 35 s
    assert reminders_sent(setup) == [key]
    setup.clock.set(NOW + timedelta(minutes=11))
    assert tick(setup) == 0  # and only once


def test_a_change_that_keeps_the_time_arriving_after_the_reminder_fell_due_keeps_it(setup: Setup) -> None:
    """The reminder is due and queued, and before its text goes (a backlog, a retry) the EHR sends an update that
    keeps the time (S14): the reminder still goes, once."""
    setup.runtime.scheduling.reminders.tick(Geography.EU)
    key = book(setup, NOW + timedelta(hours=2), "K1")
    send_queued(setup.runtime)  # the booking confirmation
    setup.clock.set(NOW + timedelta(hours=1, seconds=20))  # 20 s past due
    assert setup.runtime.scheduling.reminders.tick(Geography.EU).queued == 1
    book(setup, NOW + timedelta(hours=2), "K1", event="S14", sent=NOW + timedelta(hours=1, seconds=10))
    assert send_queued(setup.runtime)["sent"] == 1
    assert reminders_sent(setup) == [key]
    book(setup, NOW + timedelta(hours=2), "K1", event="S14", sent=NOW + timedelta(hours=1, seconds=15))
    setup.clock.advance(minutes=1)
    assert tick(setup) == 0  # sent once: the later update does not bring it back


def test_no_reminder_for_cancelled_or_started_appointments(setup: Setup) -> None:
    setup.runtime.scheduling.reminders.tick(Geography.EU)
    book(setup, NOW + timedelta(hours=2), "X1")
    book(setup, NOW + timedelta(hours=2), "X1", event="S15", sent=NOW + timedelta(seconds=1))
    send_queued(setup.runtime)
    setup.clock.set(NOW + timedelta(hours=1))
    assert tick(setup) == 0
    assert reminders_sent(setup) == []


def test_catching_up_after_downtime_skips_stale_reminders(setup: Setup) -> None:
    setup.runtime.scheduling.reminders.tick(Geography.EU)
    stale = book(setup, NOW + timedelta(hours=6), "D1")  # due at +5h: 45 minutes overdue when we are back
    recent = book(setup, NOW + timedelta(hours=6, minutes=30), "D2")  # due at +5h30: 15 minutes overdue
    send_queued(setup.runtime)
    setup.clock.set(NOW + timedelta(hours=5, minutes=45))  # the host was down for hours
    report = setup.runtime.scheduling.reminders.tick(Geography.EU)
    assert report.read == 2
    assert send_queued(setup.runtime) == {"sent": 1, "skipped": 1}
    [skipped] = [
        r
        for r in setup.runtime.platform.tables.data(setup.organisation, SmsMessageRepository).iterate(setup.endpoint_id)
        if r.status == "skipped"
    ]
    assert (skipped.appointment_key, skipped.reason) == (stale, "stale")
    assert reminders_sent(setup) == [recent]
    assert stale not in reminders_sent(setup)


def test_phone_numbers_are_deleted_once_the_appointment_has_ended(setup: Setup) -> None:
    key = book(setup, NOW + timedelta(hours=1), "P1")
    appointments = setup.runtime.platform.tables.data(setup.organisation, AppointmentRepository)
    assert appointments.get(setup.endpoint_id, key).phone == "+12175550123"
    assert setup.runtime.scheduling.retention.run(Geography.EU) == 0
    setup.clock.set(NOW + timedelta(hours=2))
    assert setup.runtime.scheduling.retention.run(Geography.EU) == 1
    assert appointments.get(setup.endpoint_id, key).phone is None


def test_rotating_the_join_link_key_keeps_every_opt_out(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    before = setup.runtime.messaging.sms.number_hash("+12175550123")
    monkeypatch.setenv("SECRET_JOIN_LINK_KEY", "a freshly rotated join-link key")
    setup.clock.advance(hours=1)  # past the secret cache
    assert setup.runtime.messaging.sms.number_hash("+12175550123") == before


def change_reminders(setup: Setup, **changes: object) -> None:
    """Change the endpoint's SMS settings as the portal does, and run the re-index job it queues."""
    current = setup.runtime.messaging.sms_setup.settings(setup.admin, setup.endpoint_id)
    assert current is not None
    update = SmsSettingsUpdate(**{**current.model_dump(include=set(SmsSettingsUpdate.model_fields)), **changes})
    setup.runtime.messaging.sms_setup.update_settings(setup.admin, setup.endpoint_id, update)
    queue = setup.runtime.platform.storage.app.queue(REMINDER_REINDEX)
    for message in queue.receive_messages(max_messages=32):
        change = ReminderReindex.model_validate_json(message.content)
        if change.endpoint_id == setup.endpoint_id:
            setup.runtime.scheduling.appointments.reschedule_reminders(change)
            queue.delete_message(message)


def test_changing_the_reminder_time_moves_reminders_already_booked(setup: Setup) -> None:
    setup.runtime.scheduling.reminders.tick(Geography.EU)
    key = book(setup, NOW + timedelta(hours=5), "M1")  # reminder 60 minutes before: at +4h
    change_reminders(setup, reminder_minutes_before=180)  # now at +2h
    setup.clock.set(NOW + timedelta(hours=2))
    assert tick(setup) == 1
    assert reminders_sent(setup) == [key]
    setup.clock.set(NOW + timedelta(hours=4))  # the old slot: nothing left there
    assert setup.runtime.scheduling.reminders.tick(Geography.EU).read == 0


def test_turning_reminders_off_and_on_again(setup: Setup) -> None:
    setup.runtime.scheduling.reminders.tick(Geography.EU)
    key = book(setup, NOW + timedelta(hours=5), "F1")
    change_reminders(setup, reminder_enabled=False)
    appointments = setup.runtime.platform.tables.data(setup.organisation, AppointmentRepository)
    assert appointments.get(setup.endpoint_id, key).reminder_due_at is None
    setup.clock.set(NOW + timedelta(hours=1))
    change_reminders(setup, reminder_enabled=True, reminder_minutes_before=120)
    assert appointments.get(setup.endpoint_id, key).reminder_due_at == NOW + timedelta(hours=3)
    setup.clock.set(NOW + timedelta(hours=3))
    assert tick(setup) == 1
    # Sent: changing the time again does not bring it back.
    change_reminders(setup, reminder_minutes_before=30)
    setup.clock.set(NOW + timedelta(hours=4, minutes=30))
    assert tick(setup) == 0
    assert reminders_sent(setup) == [key]


def test_where_the_endpoint_asks_the_reminders_link_opens_the_device_test_first(setup: Setup) -> None:
    current = setup.runtime.messaging.sms_setup.settings(setup.admin, setup.endpoint_id)
    assert current is not None
    update = SmsSettingsUpdate(
        clinic_name="North", sender_number=current.sender_number, reminder_minutes_before=60, device_check_first=True
    )
    setup.runtime.messaging.sms_setup.update_settings(setup.admin, setup.endpoint_id, update)
    book(setup, NOW + timedelta(hours=3), "D1")
    send_queued(setup.runtime)  # the booking's confirmation: straight to the visit
    setup.runtime.scheduling.reminders.tick(Geography.EU)
    setup.clock.set(NOW + timedelta(hours=2))
    assert tick(setup) == 1
    outbox = sent_texts(setup.organisation.tenant_id, setup.runtime)  # newest first
    confirmation, reminder = outbox[-1]["body"], outbox[0]["body"]
    assert "/api/join#" in confirmation and "/api/device-test#" not in confirmation
    assert "reminder" in reminder and "/api/device-test#" in reminder and "?" not in reminder  # no query string
