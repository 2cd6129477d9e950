"""The outbound-text pipeline: every confirmation, reminder and cancellation is one `sms-outbound` message in the
organisation's geography, sent by whichever instance takes it off the queue.

Exactly once, as the patient sees it: the text's record is claimed with its ETag (`queued -> sending`) before the
provider is called, and the provider gets the record's repeatability ID, the same on every try, so a text tried
again after a crash is not sent twice. A copy of a message whose text is already settled does nothing. A claim
older than `SENDING_LEASE` (an instance died mid-send) is taken over.

Nothing sleeps. When the sender number's next slot (limiter.py) is in the future, the message goes on the
`sms-waiting` queue with a visibility delay until then, holding that slot (a queue of its own, so that it is not
received behind a backlog of new texts and late for its slot); an ACS 429 puts it back for its Retry-After. Neither
costs a try. 5xx and timeouts are tried again with exponential
backoff and jitter; after `max_attempts` the text is `failed` with the reason, listed on the portal's SMS page.
"""

from __future__ import annotations

import logging
import math
import random
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from shared.core import telemetry
from shared.core.clock import Clock
from shared.core.errors import Conflict, NotFound
from shared.core.settings import Geography
from shared.core.ttl import TtlCache
from shared.messaging.limiter import SenderLimiter, SmsLimits
from shared.messaging.models import FINAL_STATUSES, SmsMessageStatus, SmsOutbound, SmsSettings
from shared.messaging.providers import OutgoingSms, SmsFailed, SmsRetryable, SmsSender, SmsThrottled
from shared.messaging.segments import segments as segments_of
from shared.messaging.send_rules import SUPERSEDED, reason_not_to_send
from shared.messaging.tables import PhoneNumberRepository, SmsMessageRepository
from shared.messaging.texts import Composed, NotSent, SmsService, message_id
from shared.setup.lookups import LOOKUP_TTL, ControlLookups
from shared.setup.models import FhirEndpoint, Organisation
from shared.storage.queue_names import SMS_OUTBOUND, SMS_WAITING
from shared.storage.queues import GeographyQueues
from shared.storage.repository import Versioned
from shared.storage.routing import Tables
from shared.visits.tables import AppointmentRepository

log = logging.getLogger(__name__)

SENDING_LEASE = timedelta(seconds=60)  # longer than a send can take (connect 5 s + read 20 s)
MAX_BACKOFF_SECONDS = 300.0
ENQUEUE_THREADS = 16
InviteComposer = Callable[[Organisation, FhirEndpoint, SmsOutbound, SmsSettings | None, datetime], Composed | NotSent]
# A copy holding a slot may use it this long after it: queue delivery lags, more so when the instances are busy,
# and a late copy sent to the back of the line would come late again. Copies held up together for longer (a host
# restart) claim new slots, so they do not all go at once; ACS's own 429 is the backstop.
SLOT_GRACE = timedelta(seconds=5)

Outcome = Literal["sent", "skipped", "opted_out", "failed", "deferred", "settled", "duplicate"]


@dataclass(frozen=True)
class Delivery:
    outcome: Outcome
    delay: float = 0.0  # for `deferred`: seconds until the message is visible again
    reason: str | None = None
    slot_at: datetime | None = None  # for `deferred`: the send slot the copy holds


@dataclass(kw_only=True, eq=False)
class TextDispatch:
    tables: Tables
    lookups: ControlLookups
    queues: GeographyQueues
    sms: SmsService
    sender: SmsSender
    limiter: SenderLimiter | None  # None: the outbox provider, which sends nothing
    clock: Clock
    limits: SmsLimits
    rng: random.Random = field(default_factory=random.Random)
    composers: Mapping[str, InviteComposer] = field(default_factory=dict)
    """By kind, what a text other than a booking's says, or why it does not go (invite_texts.py, surveys.py,
    patient_notices.py)."""

    def __post_init__(self) -> None:
        self._puts = ThreadPoolExecutor(max_workers=ENQUEUE_THREADS, thread_name_prefix="sms-enqueue")
        self._number_types: TtlCache[tuple[str, str], str] = TtlCache(self.clock, LOOKUP_TTL)

    # enqueueing

    def enqueue(self, geography: Geography, message: SmsOutbound) -> None:
        self.queues.send(geography, SMS_OUTBOUND, message)

    def enqueue_many(self, geography: Geography, messages: Iterable[SmsOutbound]) -> int:
        """Put many texts on the queue at once (a reminder tick); raises if any was not taken."""
        batch = list(self._puts.map(lambda m: self.enqueue(geography, m), messages))
        return len(batch)

    # the queue trigger

    def handle(self, geography: Geography, body: bytes) -> Delivery:
        """One `sms-outbound` (or `sms-waiting`) message: deliver it; when it must wait, put it on `sms-waiting`,
        visible again when its time comes."""
        message = SmsOutbound.model_validate_json(body)
        delivery = self.deliver(message)
        if delivery.outcome == "deferred":
            delay = max(1, math.ceil(delivery.delay))
            later = message.model_copy(update={"slot_at": delivery.slot_at})
            self.queues.send(geography, SMS_WAITING, later, delay_seconds=delay)
        return delivery

    def deliver(self, message: SmsOutbound) -> Delivery:
        record_id = message_id(message.appointment_key, message.version, message.kind)
        telemetry.bind(
            tenant_id=message.tenant_id,
            endpoint_id=message.endpoint_id,
            appointment_key=message.appointment_key,
            sms_message_id=record_id,
        )
        organisation = self.lookups.organisation(message.tenant_id)
        endpoint = self.lookups.endpoint(message.tenant_id, message.endpoint_id)
        if organisation is None or endpoint is None:
            log.info("SMS %s for endpoint %s: endpoint removed", message.kind, message.endpoint_id)
            return Delivery("skipped", reason="endpoint removed")
        records = self.tables.data(organisation, SmsMessageRepository)
        now = self.clock.now()
        try:
            stored: Versioned[SmsMessageStatus] | None = records.get_versioned(endpoint.id, record_id)
        except NotFound:
            stored = None
        if stored is not None:
            if stored.item.status in FINAL_STATUSES:
                return Delivery("settled")
            since = stored.item.sending_since
            if stored.item.status == "sending" and since is not None and now - since < SENDING_LEASE:
                return Delivery("deferred", delay=(since + SENDING_LEASE - now).total_seconds())
        settings = self.sms.settings_for(organisation.tenant_id, endpoint.id, cached=True)
        wait = self._wait_for_slot(organisation, settings, message.slot_at, now)
        if wait is not None:
            return wait  # before reading anything else: a text that waits costs two reads and a put
        record = (
            stored.item
            if stored
            else self.sms.new_record(endpoint.id, message.appointment_key, message.version, message.kind)
        )
        if (composer := self.composers.get(message.kind)) is not None:  # an invite, a survey, a late notice...
            invited = composer(organisation, endpoint, message, settings, now)
            if isinstance(invited, Composed):
                return self._send(organisation, records, stored, record, invited)
            self._settle(records, stored, record, status=invited.status, reason=invited.reason)
            return Delivery("opted_out" if invited.status == "opted_out" else "skipped", reason=invited.reason)
        appointment = self.tables.data(organisation, AppointmentRepository).find(endpoint.id, message.appointment_key)
        reason = reason_not_to_send(appointment, message, now, self.limits.reminder_max_late)
        if reason is None:
            assert appointment is not None
            composed = self.sms.compose(
                organisation=organisation,
                endpoint=endpoint,
                appointment=appointment,
                kind=message.kind,
                settings=settings,
            )
            if isinstance(composed, Composed):
                return self._send(organisation, records, stored, record, composed)
            status, reason = composed.status, composed.reason
        elif reason in SUPERSEDED:
            log.info("SMS %s for endpoint %s: %s", message.kind, endpoint.id, reason)
            if stored is not None:  # an earlier try left it queued or sending: it is settled now
                self._settle(records, stored, record, status="skipped", reason=reason)
            return Delivery("skipped", reason=reason)  # a newer message decides; no record for this one
        else:
            status = "skipped"
        self._settle(records, stored, record, status=status, reason=reason)
        log.info("SMS %s for endpoint %s: %s (%s)", message.kind, endpoint.id, status, reason)
        return Delivery("opted_out" if status == "opted_out" else "skipped", reason=reason)

    def _send(
        self,
        organisation: Organisation,
        records: SmsMessageRepository,
        stored: Versioned[SmsMessageStatus] | None,
        record: SmsMessageStatus,
        text: Composed,
    ) -> Delivery:
        now = self.clock.now()
        claim = record.model_copy(
            update={
                "status": "sending",
                "sending_since": now,
                "repeatability_id": record.repeatability_id or str(uuid.uuid4()),
                "first_sent_at": record.first_sent_at or now,
                "updated_at": now,
            }
        )
        try:
            claimed = records.replace(claim, stored.etag) if stored else records.create(claim)
        except Conflict:
            return Delivery("duplicate")  # another instance has this text; it settles it
        outgoing = OutgoingSms(
            id=claim.id,
            to=text.to,
            sender=text.sender,
            body=text.body,
            tag=f"{organisation.tenant_id}|{claim.endpoint_id}|{claim.id}",
            repeatability_id=claim.repeatability_id or "",
            first_sent=claim.first_sent_at,
        )
        try:
            provider_id = self.sender.send(outgoing)
        except SmsThrottled as throttled:
            if self.limiter is not None:
                self.limiter.hold(text.sender, self.clock.now() + timedelta(seconds=throttled.retry_after))
            self._settle(records, claimed, claim, status="queued", reason=throttled.detail)
            return Delivery("deferred", delay=throttled.retry_after, reason=throttled.detail)
        except SmsRetryable as passing:
            attempts = claim.attempts + 1
            if attempts < self.limits.max_attempts:
                self._settle(records, claimed, claim, status="queued", reason=passing.detail, attempts=attempts)
                return Delivery("deferred", delay=self._backoff(attempts), reason=passing.detail)
            return self._fail(records, claimed, claim, f"{passing.detail} Tried {attempts} times.", attempts)
        except SmsFailed as refused:
            return self._fail(records, claimed, claim, refused.detail, claim.attempts)
        billed = {"provider_message_id": provider_id, "segments": segments_of(text.body).count}
        self._settle(records, claimed, claim, status="sent", reason=None, **billed)
        log.info("SMS %s for endpoint %s: sent", claim.type, claim.endpoint_id)
        return Delivery("sent")

    def _wait_for_slot(
        self, organisation: Organisation, settings: SmsSettings | None, slot_at: datetime | None, now: datetime
    ) -> Delivery | None:
        """None when the text may go now (a slot of the sender number claimed, or held by this copy)."""
        if self.limiter is None or settings is None or not settings.sender_number:
            return None
        if slot_at is not None and slot_at <= now <= slot_at + SLOT_GRACE:
            return None
        number = settings.sender_number
        slot = self.limiter.claim(number, self.limits.pace(self._number_type(organisation.tenant_id, number)))
        if slot <= now:
            return None
        return Delivery("deferred", delay=(slot - now).total_seconds(), slot_at=slot)

    def _fail(
        self,
        records: SmsMessageRepository,
        claimed: Versioned[SmsMessageStatus],
        claim: SmsMessageStatus,
        reason: str,
        attempts: int,
    ) -> Delivery:
        self._settle(records, claimed, claim, status="failed", reason=reason, attempts=attempts)
        log.warning("SMS %s for endpoint %s failed: %s", claim.type, claim.endpoint_id, reason)
        return Delivery("failed", reason=reason)

    def _settle(
        self,
        records: SmsMessageRepository,
        stored: Versioned[SmsMessageStatus] | None,
        record: SmsMessageStatus,
        **changes: object,
    ) -> None:
        updated = record.model_copy(update={**changes, "sending_since": None, "updated_at": self.clock.now()})
        try:
            if stored is None:
                records.create(updated)
            else:
                records.replace(updated, stored.etag)
        except Conflict:
            pass  # another instance took the text over after our lease; its outcome stands (same repeatability ID)

    def _backoff(self, attempts: int) -> float:
        base = min(MAX_BACKOFF_SECONDS, 5.0 * float(2 ** max(0, attempts - 1)))
        return base * (0.5 + self.rng.random())

    # the sender number's type, cached per instance

    def _number_type(self, tenant_id: str, number: str) -> str:
        def load() -> str:
            found = self.tables.control(PhoneNumberRepository).find(tenant_id, number)
            return found.number_type if found else "toll_free"

        return self._number_types.get((tenant_id, number), load)
