"""Call quality from Teams call records (`CallRecords.Read.All`).

- One subscription to the tenant's call records (`/communications/callRecords`, created), made and renewed by the
  meeting-subscription timer (and checked when a worker creates its first meeting, so that the first visits are
  not missed); its clientState is a random secret kept only as a hash.
- `POST /api/events/callrecords`: the validation handshake, then each notification of our subscription with the
  right clientState queues the record's ID and its tenant on `call-records` (a wrong clientState refuses the
  delivery).
- The processor finds the organisation by the tenant (a tenant that is none stops there), reads the record's
  meeting (most of a tenant's calls are not visits: they stop there), finds the visit by its meeting's join URL
  in the organisation's geography (every meeting in use is remembered there by the URL's hash, when the
  participant-events processor hears of it first), then reads the sessions and segments and keeps, per role, only
  numbers (shared/writeback/call_quality.py) in that geography. Reading a record again writes the same rows.
  Records queued by an older version (no tenant) are looked up among the join URLs it kept in the app's account.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

from shared.core.clock import Clock
from shared.core.errors import NotFound
from shared.core.geography import Geography
from shared.core.ttl import TtlCache
from shared.reports.models import CallQuality
from shared.reports.tables import CallQualityRepository
from shared.setup.models import Organisation
from shared.setup.tables import OrganisationRepository
from shared.storage.queue_names import CALL_RECORDS
from shared.storage.queues import QueueSender
from shared.storage.routing import Tables
from shared.visits.models import MeetingLink, ParticipantRole
from shared.visits.providers import EventSubscription, MeetingUnavailable
from shared.visits.tables import VisitEventRepository
from shared.writeback.call_quality import RoleQuality, by_role
from shared.writeback.meeting_events import check_client_state, client_state_hash, notifications
from shared.writeback.models import CallRecordMessage, CallRecordSubscription, MeetingJoin
from shared.writeback.participant_events import participant_key
from shared.writeback.tables import CallRecordSubscriptionRepository, MeetingJoinRepository

log = logging.getLogger(__name__)

CHECK_EVERY = timedelta(minutes=30)
JOIN_RETENTION = timedelta(days=30)  # call records come within hours of a call; a late one after a month is dropped


class CallRecordSource(Protocol):
    def subscribe_call_records(
        self, notification_url: str, client_state: str, expires_at: datetime
    ) -> EventSubscription: ...

    def renew(self, subscription_id: str, expires_at: datetime) -> datetime: ...

    def call_record(self, record_id: str, *, full: bool) -> dict[str, Any]: ...


def join_hash(join_url: str) -> str:
    return hashlib.sha256(join_url.encode()).hexdigest()


def _moment(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


@dataclass(kw_only=True, eq=False)
class CallRecords:
    tables: Tables
    queues: QueueSender
    clock: Clock
    source: CallRecordSource | None
    """None: the meeting provider keeps no call records (the local one)."""
    notification_url: str
    geographies: Sequence[Geography]
    """The enabled geographies, whose join URLs age out."""
    lifetime: timedelta = timedelta(days=2)
    renew_before: timedelta = timedelta(hours=24)

    def __post_init__(self) -> None:
        self._subscriptions = self.tables.control(CallRecordSubscriptionRepository)
        self._next_check: datetime | None = None
        # Every call of the tenant notifies us, most of them not visits: the subscription's row (its clientState
        # hash, which a renewal keeps) is read once a minute per worker, not once per notification.
        self._known: TtlCache[str, CallRecordSubscription | None] = TtlCache(self.clock, timedelta(minutes=1), 16)
        # Every call of a tenant is a record to read: its organisation (where its visits' rows are) is read once a
        # minute per worker, not once per call.
        self._organisations: TtlCache[str, Organisation | None] = TtlCache(self.clock, timedelta(minutes=1), 256)

    def ensure_soon(self) -> None:
        """With a new meeting: make sure the subscription exists (at most every `CHECK_EVERY` per worker), so that
        a first visit's record is not missed while the timer has not run yet. A failure is logged, never raised."""
        now = self.clock.now()
        if self.source is None or (self._next_check is not None and now < self._next_check):
            return
        self._next_check = now + CHECK_EVERY
        try:
            self.ensure_subscription()
        except Exception:
            log.exception("The call records subscription could not be checked")

    def remember(self, organisation: Organisation, link: MeetingLink) -> None:
        """A meeting in use (its first call event): its call records will name it by its join URL. Here, off the
        launch's path, rather than when the meeting is created: a launch waits for nothing it does not need."""
        self.tables.data(organisation, MeetingJoinRepository).upsert(
            MeetingJoin(
                join_hash=join_hash(link.join_url),
                tenant_id=organisation.tenant_id,
                endpoint_id=link.endpoint_id,
                appointment_key=link.appointment_key,
                first_used_at=self.clock.now(),
            )
        )

    def ensure_subscription(self) -> str:
        """Create the subscription, or renew it when it expires within `renew_before`: what was done."""
        if self.source is None:
            return "off"
        now = self.clock.now()
        current = next(iter(self._subscriptions.iterate("callrecords")), None)
        if current is not None and current.expires_at > now + self.renew_before:
            return "current"
        if current is not None:
            try:
                expires = self.source.renew(current.id, now + self.lifetime)
                self._subscriptions.upsert(current.model_copy(update={"expires_at": expires}))
                return "renewed"
            except NotFound:
                self._subscriptions.delete("callrecords", current.id)
                self._known.forget(current.id)
            except MeetingUnavailable as failure:
                log.error("The call records subscription could not be renewed: %s", failure.detail)
                return "failed"
        client_state = secrets.token_urlsafe(32)
        try:
            created = self.source.subscribe_call_records(self.notification_url, client_state, now + self.lifetime)
        except MeetingUnavailable as failure:
            log.error("No call records subscription: %s", failure.detail)
            return "failed"
        self._subscriptions.upsert(
            CallRecordSubscription(
                id=created.id,
                client_state_hash=client_state_hash(client_state),
                expires_at=created.expires_at,
                created_at=now,
            )
        )
        return "created"

    def forget_old_meetings(self) -> int:
        """Delete the join URLs kept longer than `JOIN_RETENTION`, in every geography (and those an older version
        kept in the app's account); how many."""
        tables = [self.tables.in_geography(g, MeetingJoinRepository) for g in self.geographies]
        count = 0
        for joins in [*tables, self.tables.control(MeetingJoinRepository)]:
            old = joins.iterate(query="first_used_at lt @old", parameters={"old": self.clock.now() - JOIN_RETENTION})
            for join in old:
                joins.delete(join.join_hash[:2], join.join_hash)
                count += 1
        return count

    def receive(self, payload: Any) -> int:
        """Queue each notification of our subscription; how many were queued."""
        messages: list[CallRecordMessage] = []
        for notification in notifications(payload):
            subscription_id = str(notification.get("subscriptionId") or "")
            subscription = self._known.get(
                subscription_id, partial(self._subscriptions.find, "callrecords", subscription_id)
            )
            if subscription is None:
                self._known.forget(subscription_id)  # a subscription made a moment ago is found next time
                log.info("Call record notification for an unknown subscription ignored")
                continue
            check_client_state(subscription.client_state_hash, notification)
            data = notification.get("resourceData")
            record_id = data.get("id") if isinstance(data, dict) else None
            tenant = notification.get("tenantId")
            if isinstance(record_id, str) and 0 < len(record_id) <= 200:
                messages.append(
                    CallRecordMessage(
                        record_id=record_id,
                        tenant_id=tenant if isinstance(tenant, str) and 0 < len(tenant) <= 64 else "",
                        received_at=self.clock.now(),
                    )
                )
        for message in messages:
            self.queues.send(CALL_RECORDS, message)
        return len(messages)

    def process(self, message: CallRecordMessage) -> int:
        """Keep a record's figures per role, if it is a visit's; how many rows were written."""
        if self.source is None:
            return 0
        organisations = self.tables.control(OrganisationRepository)
        organisation: Organisation | None = None
        if message.tenant_id is not None:
            tenant = message.tenant_id
            organisation = self._organisations.get(tenant, partial(organisations.find, tenant, "organisation"))
            if organisation is None:
                return 0  # a call of a tenant that is none of our organisations
        summary = self.source.call_record(message.record_id, full=False)
        url = summary.get("joinWebUrl")
        if not isinstance(url, str) or not url:
            return 0
        digest = join_hash(url)
        if organisation is not None:
            join = self.tables.data(organisation, MeetingJoinRepository).find(digest[:2], digest)
        else:  # queued by an older version, which kept the join URLs in the app's account
            join = self.tables.control(MeetingJoinRepository).find(digest[:2], digest)
            organisation = organisations.find(join.tenant_id, "organisation") if join else None
        if join is None or organisation is None or join.tenant_id != organisation.tenant_id:
            return 0  # a call that is not one of our visits
        record = self.source.call_record(message.record_id, full=True)
        start = _moment(record.get("startDateTime")) or self.clock.now()
        known = {
            e.participant: e.role
            for e in self.tables.data(organisation, VisitEventRepository).iterate(join.appointment_key)
            if e.participant and e.role
        }

        def role(participant: str, tenant: str | None) -> ParticipantRole:
            found = known.get(participant_key(join.tenant_id, participant))
            if found is not None:
                return found
            if tenant is not None and tenant.lower() == join.tenant_id.lower():
                return "clinician"
            return "guest"  # not in the meeting's events: nobody the connector sent

        rows = self.tables.data(organisation, CallQualityRepository)
        figures = by_role(record, role)
        now = self.clock.now()
        for participant_role, quality in figures.items():
            rows.upsert(
                CallQuality(
                    tenant_id=join.tenant_id,
                    day=f"{start:%Y%m%d}",
                    appointment_key=join.appointment_key,
                    role=participant_role,
                    record_id=message.record_id,
                    endpoint_id=join.endpoint_id,
                    call_start=start,
                    updated_at=now,
                    **_figures(quality),
                )
            )
        return len(figures)


def _figures(quality: RoleQuality) -> dict[str, Any]:
    def average(values: list[float], scale: float = 1.0) -> float | None:
        return round(scale * sum(values) / len(values), 3) if values else None

    def worst(values: list[float], scale: float = 1.0) -> float | None:
        return round(scale * max(values), 3) if values else None

    return {
        "streams": quality.streams,
        "poor_streams": quality.poor_streams,
        "average_jitter_ms": average(quality.jitter),
        "worst_jitter_ms": worst(quality.worst_jitter or quality.jitter),
        "average_packet_loss_percent": average(quality.loss, 100),
        "worst_packet_loss_percent": worst(quality.worst_loss or quality.loss, 100),
        "average_round_trip_ms": average(quality.rtt),
        "worst_round_trip_ms": worst(quality.worst_rtt or quality.rtt),
        "average_audio_degradation": average(quality.degradation),
    }
