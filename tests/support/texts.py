"""Texting fixtures: `setup`, an EU organisation with an endpoint, both consents, a number and reminders an hour
before, on an injected clock; `book` applies a scheduling message; `send_queued` runs the `reminders-due`,
`sms-outbound` and `sms-waiting` queues in process as their triggers do (a deferred text is put back with its
delay, not awaited)."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from dev.fakes.sandbox_ehr import SandboxEhr
from shared.auth.principal import Principal, Role
from shared.core.settings import Geography, Settings
from shared.messaging.models import PhoneNumberJobMessage, PhoneNumberOrder, SmsSettingsUpdate
from shared.runtime import Runtime
from shared.scheduling.models import DueReminders, InboundHl7
from shared.setup.models import FhirEndpointCreate, Organisation, OrganisationCreate
from shared.storage.queue_names import REMINDERS_DUE, SMS_OUTBOUND, SMS_WAITING
from shared.visits.models import appointment_key
from tests.conftest import CLIENT_ID
from tests.support.clock import FakeClock
from tests.support.hl7 import siu


def send_queued(runtime: Runtime, geography: Geography = Geography.EU) -> Counter[str]:
    """Fan out the due reminders' batches, then deliver what is on the geography's text queue; the outcomes."""
    account = runtime.platform.storage.for_geography(geography)
    batches = account.queue(REMINDERS_DUE)
    while found := list(batches.receive_messages(messages_per_page=32, max_messages=32, visibility_timeout=60)):
        for message in found:
            runtime.scheduling.reminders.fan_out(geography, DueReminders.model_validate_json(message.content))
            batches.delete_message(message)
    outcomes: Counter[str] = Counter()
    while True:
        handled = 0
        for queue in (account.queue(SMS_OUTBOUND), account.queue(SMS_WAITING)):
            batch = list(queue.receive_messages(messages_per_page=32, max_messages=32, visibility_timeout=60))
            for message in batch:
                outcomes[runtime.messaging.dispatch.handle(geography, message.content).outcome] += 1
                queue.delete_message(message)
            handled += len(batch)
        if not handled:
            return outcomes


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


def sent_texts(tenant_id: str, runtime: Runtime | None = None) -> list[dict[str, Any]]:
    """The organisation's texts as the outbox provider sent them (links whole, newest first), from its memory in
    this process: the portal's outbox keeps links without their tokens."""
    from shared.messaging.providers.outbox import OutboxSmsSender
    from shared.runtime import get_runtime

    sender = (runtime or get_runtime()).messaging.sender
    assert isinstance(sender, OutboxSmsSender), "the tests send texts through the outbox provider"
    return [m.model_dump(mode="json") for m in sender.recent(tenant_id)]
