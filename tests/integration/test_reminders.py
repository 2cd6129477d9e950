"""Reminder ticks and phone-number retention, with an injected clock, against Azurite."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from dev.fakes.sandbox_ehr import SandboxEhr
from shared.auth.principal import Principal, Role
from shared.core.settings import Geography, Settings
from shared.messaging.models import PhoneNumberJobMessage, PhoneNumberOrder, ReminderReindex, SmsSettingsUpdate
from shared.messaging.tables import SmsMessageRepository
from shared.runtime import Runtime
from shared.scheduling.models import InboundHl7
from shared.scheduling.reminders import ReminderService
from shared.setup.models import FhirEndpointCreate, Organisation, OrganisationCreate
from shared.storage.queues import REMINDER_REINDEX
from shared.visits.models import appointment_key
from shared.visits.tables import AppointmentRepository
from tests.conftest import CLIENT_ID
from tests.support.clock import FakeClock
from tests.support.hl7 import siu

NOW = datetime.now(UTC).replace(second=0, microsecond=0)


@dataclass
class Setup:
    runtime: Runtime
    clock: FakeClock
    organisation: Organisation
    endpoint_id: str
    admin: Principal


@pytest.fixture
def setup(settings: Settings, sandbox: SandboxEhr) -> Setup:
    clock = FakeClock(NOW)
    runtime = Runtime(settings, clock=clock)
    admin = Principal(str(uuid.uuid4()), "admin", "admin@x.org", frozenset({Role.ADMIN}))
    organisation = runtime.setup.organisations.create(
        admin, OrganisationCreate(display_name="North", geography=Geography.EU)
    )
    endpoint = runtime.setup.endpoints.create(
        admin,
        FhirEndpointCreate(base_url=sandbox.fhir_base, environment="test", approver="a@x.org", client_id=CLIENT_ID),
    )
    for name in ("sms_terms", "patient_messaging"):
        runtime.messaging.sms_setup.give_consent(admin, name)
    job = runtime.messaging.phone_numbers.order(admin, PhoneNumberOrder())
    done = runtime.messaging.number_jobs.advance(PhoneNumberJobMessage(tenant_id=admin.tenant_id, job_id=job.id))
    assert done is not None and done.number
    runtime.messaging.sms_setup.update_settings(
        admin,
        endpoint.id,
        SmsSettingsUpdate(clinic_name="North", sender_number=done.number, reminder_minutes_before=60),
    )
    return Setup(runtime, clock, organisation, endpoint.id, admin)


def book(setup: Setup, start: datetime, csn: str, event: str = "S12", sent: datetime | None = None) -> str:
    body = siu(event, start, sent=sent or setup.clock.now()).decode().replace("778899001", csn)
    setup.runtime.scheduling.appointments.process(
        InboundHl7(
            tenant_id=setup.organisation.tenant_id,
            endpoint_id=setup.endpoint_id,
            control_id=f"{csn}-{event}",
            received_at=setup.clock.now(),
            message=body.replace("\r\n", "\r"),
        )
    )
    return appointment_key(setup.organisation.tenant_id, setup.endpoint_id, f"csn:{csn}")


def reminders_sent(setup: Setup) -> list[str]:
    records = setup.runtime.platform.tables.data(setup.organisation, SmsMessageRepository).iterate(setup.endpoint_id)
    return sorted(r.appointment_key for r in records if r.type == "reminder" and r.status == "sent")


def test_a_reminder_is_sent_once_even_with_two_concurrent_ticks(setup: Setup) -> None:
    key = book(setup, NOW + timedelta(hours=3), "C1")
    setup.runtime.scheduling.reminders.tick(Geography.EU)  # first run: sets the cursor, nothing is due yet
    setup.clock.set(NOW + timedelta(hours=2))  # the reminder's minute
    second = ReminderService(
        tables=setup.runtime.platform.tables,
        sms=setup.runtime.messaging.sms,
        clock=setup.clock,
        max_late=timedelta(minutes=30),
    )
    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(
            pool.map(lambda service: service.tick(Geography.EU), [setup.runtime.scheduling.reminders, second])
        )
    assert sum(r.sent for r in reports) == 1
    assert reminders_sent(setup) == [key]
    setup.clock.advance(minutes=1)
    assert setup.runtime.scheduling.reminders.tick(Geography.EU).sent == 0
    assert reminders_sent(setup) == [key]


def test_a_tick_reads_only_what_is_due(setup: Setup) -> None:
    setup.runtime.scheduling.reminders.tick(Geography.EU)
    book(setup, NOW + timedelta(hours=2), "R1")
    book(setup, NOW + timedelta(hours=5), "R2")
    book(setup, NOW + timedelta(days=3), "R3")
    setup.clock.set(NOW + timedelta(hours=1))
    report = setup.runtime.scheduling.reminders.tick(Geography.EU)
    assert (report.read, report.sent) == (1, 1)


def test_no_reminder_for_cancelled_or_started_appointments(setup: Setup) -> None:
    setup.runtime.scheduling.reminders.tick(Geography.EU)
    book(setup, NOW + timedelta(hours=2), "X1")
    book(setup, NOW + timedelta(hours=2), "X1", event="S15", sent=NOW + timedelta(seconds=1))
    setup.clock.set(NOW + timedelta(hours=1))
    assert setup.runtime.scheduling.reminders.tick(Geography.EU).sent == 0
    assert reminders_sent(setup) == []


def test_catching_up_after_downtime_skips_stale_reminders(setup: Setup) -> None:
    setup.runtime.scheduling.reminders.tick(Geography.EU)
    stale = book(setup, NOW + timedelta(hours=6), "D1")  # due at +5h: 45 minutes overdue when we are back
    recent = book(setup, NOW + timedelta(hours=6, minutes=30), "D2")  # due at +5h30: 15 minutes overdue
    setup.clock.set(NOW + timedelta(hours=5, minutes=45))  # the host was down for hours
    report = setup.runtime.scheduling.reminders.tick(Geography.EU)
    assert report.read == 2
    assert report.skipped == {"stale": 1}
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
    assert setup.runtime.scheduling.reminders.tick(Geography.EU).sent == 1
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
    assert setup.runtime.scheduling.reminders.tick(Geography.EU).sent == 1
    # Sent: changing the time again does not bring it back.
    change_reminders(setup, reminder_minutes_before=30)
    assert appointments.get(setup.endpoint_id, key).reminder_due_at is None
    assert reminders_sent(setup) == [key]
