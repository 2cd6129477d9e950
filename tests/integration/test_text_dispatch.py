"""The text pipeline against Azurite and the ACS stub: exactly once as the patient sees it, a shared per-number
limit that never sleeps, 429s that cost no try, and failed texts listed and sent again."""

from __future__ import annotations

import base64
import random
import secrets
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from azure.core.credentials import AzureKeyCredential

from dev.host.serving import ServerThread
from shared.core.settings import Geography
from shared.messaging.dispatch import SENDING_LEASE, Delivery, TextDispatch
from shared.messaging.limiter import SenderLimiter, SmsLimits
from shared.messaging.models import SmsMessageStatus, SmsOutbound
from shared.messaging.providers import OutgoingSms
from shared.messaging.providers.acs import AcsSmsSender
from shared.messaging.tables import SendSlotRepository, SmsMessageRepository
from shared.messaging.texts import message_id
from shared.storage.queue_names import SMS_OUTBOUND, SMS_WAITING
from shared.visits.tables import AppointmentRepository
from tests.support.acs_stub import AcsStub
from tests.support.texts import NOW, Setup, book, send_queued


class Killed(BaseException):
    """The host process dying at this point (SIGKILL): nothing after it runs."""


@pytest.fixture
def acs(setup: Setup) -> Iterator[AcsStub]:
    stub = AcsStub(key=base64.b64encode(secrets.token_bytes(32)).decode(), clock=lambda: setup.clock.now().timestamp())
    with ServerThread(stub.application()) as server:
        stub.url = server.url
        yield stub


def dispatcher(setup: Setup, acs: AcsStub, *, per_minute: int = 60, max_attempts: int = 3) -> TextDispatch:
    """A dispatcher as one instance builds it: its own ACS client and limiter, sharing only the tables."""
    runtime = setup.runtime
    return TextDispatch(
        tables=runtime.platform.tables,
        lookups=runtime.setup.lookups,
        queues=runtime.platform.geography_queues,
        sms=runtime.messaging.sms,
        sender=AcsSmsSender.connect(acs.url, AzureKeyCredential(acs.key)),
        limiter=SenderLimiter(slots=runtime.platform.tables.control(SendSlotRepository), clock=setup.clock),
        clock=setup.clock,
        limits=SmsLimits(
            per_minute={"toll_free": per_minute, "geographic": per_minute},
            max_attempts=max_attempts,
            reminder_max_late=timedelta(minutes=30),
        ),
        rng=random.Random(3),
    )


def confirmation(setup: Setup, csn: str) -> SmsOutbound:
    """A booked appointment's confirmation, as the scheduling processor queues it."""
    key = book(setup, NOW + timedelta(days=1), csn)
    appointment = setup.runtime.platform.tables.data(setup.organisation, AppointmentRepository).get(
        setup.endpoint_id, key
    )
    return SmsOutbound(
        tenant_id=setup.organisation.tenant_id,
        endpoint_id=setup.endpoint_id,
        appointment_key=key,
        kind="scheduled",
        version=appointment.version,
    )


def record(setup: Setup, message: SmsOutbound) -> SmsMessageStatus:
    return setup.runtime.platform.tables.data(setup.organisation, SmsMessageRepository).get(
        setup.endpoint_id, message_id(message.appointment_key, message.version, message.kind)
    )


@pytest.fixture(autouse=True)
def empty_queue(setup: Setup) -> None:
    for queue in (SMS_OUTBOUND, SMS_WAITING):
        setup.runtime.platform.storage.for_geography(Geography.EU).queue(queue).clear_messages()


def test_a_copy_of_a_text_already_sent_does_nothing(setup: Setup, acs: AcsStub) -> None:
    message = confirmation(setup, "A1")
    dispatch = dispatcher(setup, acs)
    assert dispatch.deliver(message).outcome == "sent"
    assert dispatch.deliver(message).outcome == "settled"
    assert len(acs.sent) == 1
    assert record(setup, message).status == "sent"


def test_a_confirmation_held_up_behind_a_later_one_is_not_sent_after_it(setup: Setup, acs: AcsStub) -> None:
    """A booking text held up (a 500, a killed instance) while the visit moves goes no more once the move's own
    text has gone: both would tell the new time, and the patient would read it twice."""
    booked = confirmation(setup, "A7")
    book(setup, NOW + timedelta(days=1, hours=2), "A7", event="S13", sent=NOW + timedelta(minutes=1))
    appointment = setup.runtime.platform.tables.data(setup.organisation, AppointmentRepository).get(
        setup.endpoint_id, booked.appointment_key
    )
    moved = booked.model_copy(update={"kind": "rescheduled", "version": appointment.version})
    dispatch = dispatcher(setup, acs)
    assert dispatch.deliver(moved).outcome == "sent"
    setup.clock.advance(minutes=1)  # the number's next send slot
    assert dispatch.deliver(booked) == Delivery("skipped", reason="moved or already sent")
    assert [text["message"].split(";")[0] for text in acs.sent] == ["North: your video visit changed"]


def test_a_booking_text_held_up_past_a_cancellation_and_a_new_booking_is_not_sent(setup: Setup, acs: AcsStub) -> None:
    """Booked, cancelled, booked again at another time, then changed without a new time (S14): the first booking's
    text, held up all along, would now say the new time, which the second booking's text has said already."""
    first = confirmation(setup, "B1")
    dispatch = dispatcher(setup, acs)
    for step, (event, days) in enumerate((("S15", 1), ("S12", 2), ("S14", 2)), 1):
        book(setup, NOW + timedelta(days=days), "B1", event=event, sent=NOW + timedelta(minutes=step))
        appointment = setup.runtime.platform.tables.data(setup.organisation, AppointmentRepository).get(
            setup.endpoint_id, first.appointment_key
        )
        if appointment.pending_sms:
            told = first.model_copy(update={"kind": appointment.pending_sms, "version": appointment.version})
            assert dispatch.deliver(told).outcome == "sent"
            setup.clock.advance(minutes=1)
    assert dispatch.deliver(first) == Delivery("skipped", reason="moved or already sent")
    assert ["cancelled" in text["message"] for text in acs.sent] == [True, False]  # then the new booking only
    assert "is booked for" in acs.sent[1]["message"]


def test_a_confirmation_whose_later_change_sent_nothing_still_goes(setup: Setup, acs: AcsStub) -> None:
    """A later message that changes nothing the patient was told (S14, same time) queues no text: the booking
    text is still the one to send."""
    booked = confirmation(setup, "A8")
    book(setup, NOW + timedelta(days=1), "A8", event="S14", sent=NOW + timedelta(minutes=1))
    assert dispatcher(setup, acs).deliver(booked).outcome == "sent"
    assert len(acs.sent) == 1


def test_a_text_whose_queueing_a_crash_lost_goes_with_the_next_change(setup: Setup, acs: AcsStub) -> None:
    """An instance dies between storing a cancellation and queueing its text; before the message comes back, the
    EHR deletes the appointment (S17), after which the redelivered cancellation is older and ignored: the
    patient still gets the cancellation text, once."""
    book(setup, NOW + timedelta(days=1), "A9")
    assert send_queued(setup.runtime)["sent"] == 1  # booked
    book(setup, NOW + timedelta(days=1), "A9", event="S15", sent=NOW + timedelta(minutes=1))
    setup.runtime.platform.storage.for_geography(Geography.EU).queue(SMS_OUTBOUND).clear_messages()  # the crash
    book(setup, NOW + timedelta(days=1), "A9", event="S17", sent=NOW + timedelta(minutes=2))
    book(setup, NOW + timedelta(days=1), "A9", event="S15", sent=NOW + timedelta(minutes=1))  # the redelivery
    setup.clock.advance(minutes=1)
    assert send_queued(setup.runtime)["sent"] == 1
    texts = setup.runtime.platform.tables.data(setup.organisation, SmsMessageRepository).iterate(setup.endpoint_id)
    assert sorted(t.type for t in texts if t.status == "sent") == ["cancelled", "scheduled"]


def test_a_host_killed_between_claim_and_send_loses_nothing(setup: Setup, acs: AcsStub) -> None:
    message = confirmation(setup, "K1")
    dying = dispatcher(setup, acs)
    real = dying.sender

    class DiesBeforeSending:
        def send(self, text: OutgoingSms) -> str:
            raise Killed

    dying.sender = DiesBeforeSending()
    with pytest.raises(Killed):
        dying.deliver(message)
    assert record(setup, message).status == "sending"
    dying.sender = real
    other = dispatcher(setup, acs)
    assert other.deliver(message).outcome == "deferred"  # within the claim's lease: maybe still sending
    setup.clock.advance(seconds=SENDING_LEASE.total_seconds() + 1)  # the queue shows the message again later
    assert other.deliver(message).outcome == "sent"
    assert len(acs.sent) == 1


def test_a_host_killed_after_acs_took_the_text_texts_nobody_twice(setup: Setup, acs: AcsStub) -> None:
    message = confirmation(setup, "K2")
    dying = dispatcher(setup, acs)
    real = dying.sender

    class DiesAfterSending:
        def send(self, text: OutgoingSms) -> str:
            real.send(text)
            raise Killed

    dying.sender = DiesAfterSending()
    with pytest.raises(Killed):
        dying.deliver(message)
    setup.clock.advance(seconds=SENDING_LEASE.total_seconds() + 1)
    assert dispatcher(setup, acs).deliver(message).outcome == "sent"
    assert (len(acs.sent), acs.repeated) == (1, 1)  # ACS answered the repeat with the first result
    assert record(setup, message).provider_message_id == acs.sent[0]["messageId"]


def test_two_instances_never_exceed_a_numbers_limit(setup: Setup, acs: AcsStub) -> None:
    messages = [confirmation(setup, f"L{n}") for n in range(70)]
    acs.per_number_limit = 60
    workers = [dispatcher(setup, acs, per_minute=60), dispatcher(setup, acs, per_minute=60)]
    queue = list(messages)  # what the queue shows; a deferred copy comes back holding its slot, at its time
    waiting: list[SmsOutbound] = []
    outcomes: Counter[str] = Counter()

    def take(worker: TextDispatch, share: list[SmsOutbound]) -> list[tuple[SmsOutbound, Delivery]]:
        return [(message, worker.deliver(message)) for message in share]

    with ThreadPoolExecutor(max_workers=2) as pool:
        for _ in range(200):
            now = setup.clock.now()
            queue += [m for m in waiting if m.slot_at is not None and m.slot_at <= now]
            waiting = [m for m in waiting if m not in queue]
            shares, queue = [queue[0::2], queue[1::2]], []
            for message, delivery in [r for part in pool.map(take, workers, shares) for r in part]:
                outcomes[delivery.outcome] += 1
                if delivery.outcome == "deferred":
                    assert delivery.slot_at is not None
                    waiting.append(message.model_copy(update={"slot_at": delivery.slot_at}))
            if not queue and not waiting:
                break
            setup.clock.advance(seconds=0.5)
    assert (queue, waiting) == ([], [])
    assert outcomes["sent"] == 70 and acs.throttled == 0
    assert outcomes["deferred"] <= 70  # each text waits at most once: it holds its slot
    assert acs.busiest_minute(acs.sent[0]["from"]) <= 60
    assert len({t["smsRecipients"][0]["repeatabilityRequestId"] for t in acs.sent}) == len(acs.sent) == 70


def test_429_puts_the_text_back_for_retry_after_without_costing_a_try(setup: Setup, acs: AcsStub) -> None:
    message, other = confirmation(setup, "T1"), confirmation(setup, "T2")
    dispatch = dispatcher(setup, acs, max_attempts=1)  # one passing failure would fail it for good
    acs.throttle_next, acs.retry_after = 2, 7
    first = dispatch.deliver(message)
    assert (first.outcome, first.delay) == ("deferred", 7)
    assert (record(setup, message).status, record(setup, message).attempts) == ("queued", 0)
    meanwhile = dispatch.deliver(other)  # every instance holds off the number until then
    assert meanwhile.outcome == "deferred" and meanwhile.slot_at is not None
    assert meanwhile.slot_at >= setup.clock.now() + timedelta(seconds=7)
    deliveries = []
    for _ in range(10):  # as the queue brings the copies back, each when its delay is over
        setup.clock.advance(seconds=first.delay)
        first = dispatch.deliver(message)
        deliveries.append(first)
        message = message.model_copy(update={"slot_at": first.slot_at})
        if first.outcome != "deferred":
            break
    assert deliveries[-1].outcome == "sent"
    assert [d.delay for d in deliveries if d.reason and "429" in d.reason] == [7]  # ACS throttled once more
    assert (acs.throttled, len(acs.sent), record(setup, message).attempts) == (2, 1, 0)


def test_5xx_backs_off_then_fails_and_an_admin_sends_it_again(setup: Setup, acs: AcsStub) -> None:
    message = confirmation(setup, "F1")
    dispatch = dispatcher(setup, acs, max_attempts=3)
    acs.error_rate = 1.0
    delays = []
    for _ in range(2):
        delivery = dispatch.deliver(message)
        assert delivery.outcome == "deferred"
        delays.append(delivery.delay)
        setup.clock.advance(seconds=delivery.delay)
    assert 2.5 <= delays[0] <= 7.5 and 5 <= delays[1] <= 15  # exponential, with jitter
    assert dispatch.deliver(message).outcome == "failed"
    failed = record(setup, message)
    assert (failed.status, failed.attempts) == ("failed", 3)
    assert "HTTP 500" in (failed.reason or "") and "3 times" in (failed.reason or "")

    listed = setup.runtime.messaging.failed_texts.list_failed(setup.admin)
    assert [(t.id, t.type, t.attempts) for t in listed] == [(failed.id, "scheduled", 3)]
    acs.error_rate = 0.0
    queue = setup.runtime.platform.storage.for_geography(Geography.EU).queue(SMS_OUTBOUND)
    queue.clear_messages()  # the copy the booking queued
    setup.runtime.messaging.failed_texts.resend(setup.admin, setup.endpoint_id, failed.id)
    assert record(setup, message).status == "queued"
    [queued] = list(queue.receive_messages())
    assert SmsOutbound.model_validate_json(queued.content).resend is True
    setup.clock.advance(seconds=2)  # the number's next slot
    assert dispatch.handle(Geography.EU, queued.content).outcome == "sent"
    assert record(setup, message).status == "sent"
    assert setup.runtime.messaging.failed_texts.list_failed(setup.admin) == []


def test_queue_messages_carry_keys_only_and_stay_in_the_geography(setup: Setup) -> None:
    book(setup, NOW + timedelta(days=1), "P1")
    queue = setup.runtime.platform.storage.for_geography(Geography.EU).queue(SMS_OUTBOUND)
    # Only this organisation's: a copy another test deferred by 30 s may become visible meanwhile.
    mine = [m for m in queue.peek_messages(max_messages=32) if setup.organisation.tenant_id.encode() in m.content]
    [queued] = mine
    assert set(SmsOutbound.model_validate_json(queued.content).model_dump()) == {
        "tenant_id",
        "endpoint_id",
        "appointment_key",
        "kind",
        "version",
        "resend",
        "slot_at",
    }
    assert b"+1217" not in queued.content
    storage = setup.runtime.platform.storage
    for elsewhere in (storage.app, storage.for_geography(Geography.US), storage.for_geography(Geography.APAC)):
        others = [m.content for m in elsewhere.queue(SMS_OUTBOUND).peek_messages(max_messages=32)]
        assert not [m for m in others if setup.organisation.tenant_id.encode() in m]  # only in the EU account
    assert send_queued(setup.runtime) == {"sent": 1}


# Last in this module: the copy it puts back stays invisible for 30 s, and a clear does not reach it.
def test_a_deferred_text_waits_on_its_own_queue_with_a_visibility_delay(setup: Setup, acs: AcsStub) -> None:
    message = confirmation(setup, "Q1")
    account = setup.runtime.platform.storage.for_geography(Geography.EU)
    account.queue(SMS_OUTBOUND).clear_messages()  # the copy the booking queued
    acs.throttle_next, acs.retry_after = 1, 30
    assert dispatcher(setup, acs).handle(Geography.EU, message.model_dump_json().encode()).outcome == "deferred"
    waiting = account.queue(SMS_WAITING)
    assert waiting.get_queue_properties().approximate_message_count == 1
    assert list(waiting.peek_messages()) == []  # not visible yet
    # not behind the new texts: those are on sms-outbound
    assert account.queue(SMS_OUTBOUND).get_queue_properties().approximate_message_count == 0
