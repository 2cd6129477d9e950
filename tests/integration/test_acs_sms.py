"""The ACS sender: the real azure-communication-sms client against a loopback stub that verifies HMAC and keeps
ACS's repeatability and throttling rules."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from azure.core.credentials import AzureKeyCredential

from dev.host.serving import ServerThread
from shared.core.ratelimit import TokenBucket
from shared.messaging.providers import OutgoingSms, SmsFailed, SmsRetryable, SmsThrottled
from shared.messaging.providers.acs import AcsSmsSender
from tests.support.acs_stub import AcsStub
from tests.support.clock import FakeClock

MESSAGE = OutgoingSms(
    id="msg-1",
    to="+12175550123",
    sender="+18005550199",
    body="North Clinic: see you at 14:00",
    tag="t|e|msg-1",
    repeatability_id=str(uuid.uuid4()),
    first_sent=datetime(2026, 12, 3, 9, 0, tzinfo=UTC),
)


@pytest.fixture
def acs() -> Iterator[AcsStub]:
    stub = AcsStub(key=base64.b64encode(secrets.token_bytes(32)).decode())
    with ServerThread(stub.application()) as server:
        stub.url = server.url
        yield stub


def sender(stub: AcsStub, key: str | None = None) -> AcsSmsSender:
    return AcsSmsSender.connect(stub.url, AzureKeyCredential(key or stub.key))


def test_text_is_sent_with_delivery_report_our_tag_and_a_stable_repeatability_id(acs: AcsStub) -> None:
    message_id = sender(acs).send(MESSAGE)
    assert message_id.startswith("Outgoing_")
    [sent] = acs.sent
    assert (sent["from"], sent["to"], sent["message"]) == (MESSAGE.sender, MESSAGE.to, MESSAGE.body)
    assert sent["smsSendOptions"] == {"enableDeliveryReport": True, "tag": "t|e|msg-1"}
    [recipient] = sent["smsRecipients"]
    assert recipient["repeatabilityRequestId"] == MESSAGE.repeatability_id
    assert recipient["repeatabilityFirstSent"] == "Thu, 03 Dec 2026 09:00:00 GMT"
    assert acs.refused == []


def test_the_same_text_tried_twice_is_sent_once(acs: AcsStub) -> None:
    first = sender(acs).send(MESSAGE)
    again = sender(acs).send(MESSAGE)  # e.g. the host died after ACS took it, before the record said so
    assert again == first
    assert (len(acs.sent), acs.repeated) == (1, 1)


def test_429_is_not_retried_by_the_sdk_and_carries_retry_after(acs: AcsStub) -> None:
    acs.throttle_next, acs.retry_after = 1, 7
    with pytest.raises(SmsThrottled) as throttled:
        sender(acs).send(MESSAGE)
    assert throttled.value.retry_after == 7
    assert acs.sent == []


def test_5xx_is_a_passing_failure(acs: AcsStub) -> None:
    acs.error_rate = 1.0
    with pytest.raises(SmsRetryable):
        sender(acs).send(MESSAGE)
    assert acs.errors == 1  # one request: the dispatcher, not the SDK, decides when to try again


def test_wrong_key_is_refused_for_good(acs: AcsStub) -> None:
    with pytest.raises(SmsFailed) as refused:
        sender(acs, key=base64.b64encode(secrets.token_bytes(32)).decode()).send(MESSAGE)
    assert not isinstance(refused.value, SmsRetryable)
    assert acs.refused and acs.refused[0] == "signature"
    assert acs.sent == []


def test_the_stub_holds_each_number_to_its_limit(acs: AcsStub) -> None:
    acs.per_number_limit = 2
    texts = [
        OutgoingSms(**{**MESSAGE.__dict__, "repeatability_id": str(uuid.uuid4()), "sender": s})
        for s in ("+18005550199", "+18005550199", "+18005550100")
    ]
    for text in texts:
        sender(acs).send(text)
    with pytest.raises(SmsThrottled) as throttled:
        sender(acs).send(OutgoingSms(**{**MESSAGE.__dict__, "repeatability_id": str(uuid.uuid4())}))
    assert 1 <= throttled.value.retry_after <= 60
    assert acs.busiest_minute("+18005550199") == 2


def test_token_bucket_keeps_each_client_within_its_rate() -> None:
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.advance(seconds=seconds)

    bucket = TokenBucket(60, burst=2, clock=clock, sleep=sleep)
    assert [bucket.acquire("+18005550199") for _ in range(3)] == [0.0, 0.0, 1.0]
    assert bucket.acquire("+18005550100") == 0.0  # another key has its own bucket
    assert waits == [1.0]
