"""Change-notification subscriptions for meetings' call events: one per meeting, created with the meeting,
renewed by a timer before it expires for as long as the visit may still run, then let go.

The clientState is a fresh random secret per subscription, handed to the provider once and stored only as its
hash (writeback/meeting_events.py compares hashes).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.core.clock import Clock
from shared.core.errors import NotFound
from shared.storage.routing import Tables
from shared.visits.models import MeetingLink
from shared.visits.providers import Meeting, MeetingProvider, MeetingUnavailable
from shared.writeback.meeting_events import client_state_hash
from shared.writeback.models import MeetingSubscription
from shared.writeback.tables import MeetingSubscriptionRepository

log = logging.getLogger(__name__)


PARTITION = "subscriptions"


@dataclass
class RenewalReport:
    renewed: int = 0
    retired: int = 0
    failed: int = 0


@dataclass(kw_only=True, eq=False)
class MeetingSubscriptions:
    tables: Tables
    meetings: MeetingProvider
    clock: Clock
    notification_url: str
    lifetime: timedelta = timedelta(days=2)
    renew_before: timedelta = timedelta(hours=24)
    keep_after_end: timedelta = timedelta(hours=12)

    def __post_init__(self) -> None:
        self._rows = self.tables.control(MeetingSubscriptionRepository)

    def subscribe(self, tenant_id: str, link: MeetingLink, meeting_ends_at: datetime) -> MeetingSubscription | None:
        """Subscribe to a new meeting's events. A failure is logged, not raised: the visit goes on without
        writeback for this meeting rather than not at all."""
        now = self.clock.now()
        client_state = secrets.token_urlsafe(32)
        meeting = Meeting(link.meeting_id, link.organizer_id, link.join_url, link.browser_join_url)
        try:
            created = self.meetings.subscribe(
                meeting, self.notification_url, client_state, now + self.lifetime, tenant_id=tenant_id
            )
        except MeetingUnavailable as failure:
            log.error("No event subscription for a meeting of endpoint %s: %s", link.endpoint_id, failure.detail)
            return None
        row = MeetingSubscription(
            id=created.id,
            tenant_id=tenant_id,
            endpoint_id=link.endpoint_id,
            appointment_key=link.appointment_key,
            client_state_hash=client_state_hash(client_state),
            meeting_id=link.meeting_id,
            meeting_ends_at=meeting_ends_at,
            expires_at=created.expires_at,
            created_at=now,
        )
        self._rows.upsert(row)
        return row

    def renew_due(self) -> RenewalReport:
        """Renew every subscription expiring within `renew_before` whose meeting may still be in use."""
        now = self.clock.now()
        report = RenewalReport()
        due = self._rows.iterate(PARTITION, query="expires_at lt @soon", parameters={"soon": now + self.renew_before})
        for row in due:
            if row.meeting_ends_at + self.keep_after_end < now:
                self._rows.delete(PARTITION, row.id)
                report.retired += 1
                continue
            try:
                expires = self.meetings.renew(row.id, now + self.lifetime)
            except NotFound:
                self._rows.delete(PARTITION, row.id)
                report.retired += 1
                continue
            except MeetingUnavailable:
                report.failed += 1  # the next run tries again while the subscription lasts
                continue
            self._rows.upsert(row.model_copy(update={"expires_at": expires}))
            report.renewed += 1
        if report.renewed or report.retired or report.failed:
            log.info(
                "Meeting subscriptions: %d renewed, %d retired, %d failed",
                report.renewed,
                report.retired,
                report.failed,
            )
        return report
