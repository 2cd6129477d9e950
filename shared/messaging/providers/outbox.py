"""The outbox provider (local runs): texts are stored, not sent, and listed by the portal API."""

from __future__ import annotations

from shared.core.clock import Clock
from shared.core.usage import usage
from shared.messaging.models import OutboxMessage
from shared.messaging.providers import OutgoingSms
from shared.messaging.segments import segments
from shared.messaging.tables import OutboxRepository


def mask(number: str) -> str:
    return number[:3] + "\u2022" * max(0, len(number) - 5) + number[-2:]


class OutboxSmsSender:
    def __init__(self, outbox: OutboxRepository, clock: Clock) -> None:
        self._outbox = outbox
        self._clock = clock

    def send(self, message: OutgoingSms) -> str:
        usage.record("sms", "segments", amount=segments(message.body).count)  # what ACS would bill
        self._outbox.upsert(
            OutboxMessage(
                tenant_id=message.tag.split("|", 1)[0],
                id=message.id,
                to_masked=mask(message.to),
                sender=message.sender,
                body=message.body,
                created_at=self._clock.now(),
            )
        )
        return f"outbox-{message.id}"

    def list_for(self, tenant_id: str) -> list[OutboxMessage]:
        return sorted(self._outbox.iterate(tenant_id), key=lambda m: m.created_at, reverse=True)
