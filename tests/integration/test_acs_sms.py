"""The ACS sender: the real azure-communication-sms client against a loopback stub that verifies HMAC."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from azure.core.credentials import AzureKeyCredential

from dev.host.serving import ServerThread
from shared.core.ratelimit import TokenBucket
from shared.messaging.providers import OutgoingSms, SmsFailed
from shared.messaging.providers.acs import AcsSmsSender
from tests.support.acs_stub import AcsStub
from tests.support.clock import FakeClock

MESSAGE = OutgoingSms(
    id="msg-1", to="+12175550123", sender="+18005550199", body="North Clinic: see you at 14:00", tag="t|e|msg-1"
)


@pytest.fixture
def acs() -> Iterator[AcsStub]:
    stub = AcsStub(key=base64.b64encode(secrets.token_bytes(32)).decode())
    with ServerThread(stub.application()) as server:
        stub.url = server.url
        yield stub


def sender(stub: AcsStub, key: str | None = None) -> AcsSmsSender:
    bucket = TokenBucket(200, burst=10, clock=FakeClock(datetime.now(UTC)), sleep=lambda _: None)
    return AcsSmsSender.connect(stub.url, AzureKeyCredential(key or stub.key), bucket, retry_backoff_factor=0)


def test_text_is_sent_with_delivery_report_and_our_tag(acs: AcsStub) -> None:
    message_id = sender(acs).send(MESSAGE)
    assert message_id.startswith("Outgoing_")
    [sent] = acs.sent
    assert (sent["from"], sent["to"], sent["message"]) == (MESSAGE.sender, MESSAGE.to, MESSAGE.body)
    assert sent["smsSendOptions"] == {"enableDeliveryReport": True, "tag": "t|e|msg-1"}
    assert acs.refused == []


def test_429_is_retried_once_then_sent(acs: AcsStub) -> None:
    acs.throttle_next = 1
    assert sender(acs).send(MESSAGE).startswith("Outgoing_")
    assert len(acs.sent) == 1


def test_wrong_key_is_refused_by_the_signature_check(acs: AcsStub) -> None:
    with pytest.raises(SmsFailed):
        sender(acs, key=base64.b64encode(secrets.token_bytes(32)).decode()).send(MESSAGE)
    assert acs.refused and acs.refused[0] == "signature"
    assert acs.sent == []


def test_token_bucket_keeps_each_sender_within_its_rate() -> None:
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.advance(seconds=seconds)

    bucket = TokenBucket(60, burst=2, clock=clock, sleep=sleep)
    assert [bucket.acquire("+18005550199") for _ in range(3)] == [0.0, 0.0, 1.0]
    assert bucket.acquire("+18005550100") == 0.0  # another number has its own bucket
    assert waits == [1.0]
