"""The outbox provider (local runs): texts are kept, not sent, and listed by the portal API.

What it keeps is in the organisation's geography, as any text's record is, with every link's token (the URL's
fragment) replaced by "…": the portal shows what went out without handing out working links. The whole texts,
links included, stay only in this process's memory (`recent`, the last `RECENT_TEXTS`), for the tests and the
dev host's `GET /dev/outbox`, which clicks them as a patient would.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from datetime import timedelta
from functools import partial

from shared.core.clock import Clock
from shared.core.ttl import TtlCache
from shared.core.usage import usage
from shared.messaging.models import OutboxMessage
from shared.messaging.providers import OutgoingSms, SmsFailed
from shared.messaging.segments import segments
from shared.messaging.tables import OutboxRepository
from shared.setup.models import Organisation
from shared.setup.tables import OrganisationRepository
from shared.storage.routing import Tables

RECENT_TEXTS = 1000
ELIDED = "\u2026"
# A link's token is its fragment (join, survey and device-test links: /api/join#<token>); a link sent before as
# /api/join/<token> has it in the path.
_FRAGMENT = re.compile(r"(https?://[^\s#]+)#[^\s]+")
_PATH_TOKEN = re.compile(r"(https?://[^\s]+/api/(?:join|survey|device-test))/[^\s/?#]+")


def mask(number: str) -> str:
    return number[:3] + "\u2022" * max(0, len(number) - 5) + number[-2:]


def without_tokens(body: str) -> str:
    """The text with every link's token replaced by "…"."""
    return _PATH_TOKEN.sub(rf"\1/{ELIDED}", _FRAGMENT.sub(rf"\1#{ELIDED}", body))


class OutboxSmsSender:
    def __init__(self, tables: Tables, clock: Clock) -> None:
        self._tables = tables
        self._clock = clock
        self._organisations: TtlCache[str, Organisation | None] = TtlCache(clock, timedelta(minutes=1), 256)
        self._recent: deque[OutboxMessage] = deque(maxlen=RECENT_TEXTS)
        self._lock = threading.Lock()

    def send(self, message: OutgoingSms) -> str:
        tenant_id = message.tag.split("|", 1)[0]
        organisation = self._organisation(tenant_id)
        if organisation is None:
            raise SmsFailed("The text's organisation is not set up: nothing was kept.")
        usage.record("sms", "segments", amount=segments(message.body).count)  # what ACS would bill
        kept = OutboxMessage(
            tenant_id=tenant_id,
            id=message.id,
            to_masked=mask(message.to),
            sender=message.sender,
            body=message.body,
            created_at=self._clock.now(),
        )
        self._tables.data(organisation, OutboxRepository).upsert(
            kept.model_copy(update={"body": without_tokens(message.body)})
        )
        with self._lock:
            self._recent.append(kept)
        return f"outbox-{message.id}"

    def list_for(self, tenant_id: str) -> list[OutboxMessage]:
        """The organisation's kept texts (links without their tokens), newest first."""
        organisation = self._organisation(tenant_id)
        if organisation is None:
            return []
        rows = self._tables.data(organisation, OutboxRepository).iterate(tenant_id)
        return sorted(rows, key=lambda m: m.created_at, reverse=True)

    def recent(self, tenant_id: str) -> list[OutboxMessage]:
        """The organisation's texts sent by this process, whole (links with their tokens), newest first: for tests
        and the dev host only, never an API of the app."""
        with self._lock:
            return [m for m in reversed(self._recent) if m.tenant_id == tenant_id]

    def _organisation(self, tenant_id: str) -> Organisation | None:
        rows = self._tables.control(OrganisationRepository)
        return self._organisations.get(tenant_id, partial(rows.find, tenant_id, "organisation"))
