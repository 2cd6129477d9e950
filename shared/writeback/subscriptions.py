"""Change-notification subscriptions for meetings' call events: one per meeting, created with the meeting,
renewed by a timer before it expires for as long as the visit may still run, then let go.

A subscription's row (its visit's appointment key and meeting ID) is in the organisation's geography, and its
notification URL names that geography (`/api/events/meetings/eu`), so that a notification is looked up and queued
there. Versions before that kept the rows in the app's account behind `/api/events/meetings`: the renewal moves
each such subscription (Graph takes a new notificationUrl on PATCH) and its row.

The clientState is a fresh random secret per subscription, handed to the provider once and stored only as its
hash (writeback/meeting_events.py compares hashes).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.core.clock import Clock
from shared.core.errors import NotFound
from shared.core.geography import Geography
from shared.setup.models import Organisation
from shared.setup.tables import OrganisationRepository
from shared.storage.routing import Tables
from shared.visits.models import MeetingLink
from shared.visits.providers import Meeting, MeetingProvider, MeetingUnavailable
from shared.writeback.meeting_events import client_state_hash
from shared.writeback.models import MeetingSubscription
from shared.writeback.tables import MeetingSubscriptionRepository

log = logging.getLogger(__name__)


PARTITION = "subscriptions"


def geography_segment(geography: Geography) -> str:
    """How a notification URL names a geography: `eu`."""
    return geography.value.lower()


@dataclass
class RenewalReport:
    renewed: int = 0
    retired: int = 0
    failed: int = 0
    moved: int = 0
    """Subscriptions of an older version moved to their organisation's geography (also counted as renewed)."""


@dataclass(kw_only=True, eq=False)
class MeetingSubscriptions:
    tables: Tables
    meetings: MeetingProvider
    clock: Clock
    notification_url: str
    """The webhook's URL without a geography (`.../api/events/meetings`): each subscription's adds its own."""
    geographies: Sequence[Geography]
    """The enabled geographies, whose tables the renewal reads."""
    lifetime: timedelta = timedelta(days=2)
    renew_before: timedelta = timedelta(hours=24)
    keep_after_end: timedelta = timedelta(hours=12)

    def url_for(self, geography: Geography) -> str:
        return f"{self.notification_url.rstrip('/')}/{geography_segment(geography)}"

    def subscribe(
        self, organisation: Organisation, link: MeetingLink, meeting_ends_at: datetime
    ) -> MeetingSubscription | None:
        """Subscribe to a new meeting's events. A failure is logged, not raised: the visit goes on without
        writeback for this meeting rather than not at all."""
        now = self.clock.now()
        client_state = secrets.token_urlsafe(32)
        meeting = Meeting(link.meeting_id, link.organizer_id, link.join_url, link.browser_join_url)
        try:
            created = self.meetings.subscribe(
                meeting,
                self.url_for(organisation.geography),
                client_state,
                now + self.lifetime,
                tenant_id=organisation.tenant_id,
            )
        except MeetingUnavailable as failure:
            log.error("No event subscription for a meeting of endpoint %s: %s", link.endpoint_id, failure.detail)
            return None
        row = MeetingSubscription(
            id=created.id,
            tenant_id=organisation.tenant_id,
            endpoint_id=link.endpoint_id,
            appointment_key=link.appointment_key,
            client_state_hash=client_state_hash(client_state),
            meeting_id=link.meeting_id,
            meeting_ends_at=meeting_ends_at,
            expires_at=created.expires_at,
            created_at=now,
        )
        self.tables.data(organisation, MeetingSubscriptionRepository).upsert(row)
        return row

    def renew_due(self) -> RenewalReport:
        """Renew every subscription expiring within `renew_before` whose meeting may still be in use, and move an
        older version's ones (in the app's account) to their organisation's geography, whatever their expiry."""
        report = RenewalReport()
        for geography in self.geographies:
            self._renew(self.tables.in_geography(geography, MeetingSubscriptionRepository), report)
        self._move_older(report)
        if report.renewed or report.retired or report.failed:
            log.info(
                "Meeting subscriptions: %d renewed (%d moved to their geography), %d retired, %d failed",
                report.renewed,
                report.moved,
                report.retired,
                report.failed,
            )
        return report

    def _renew(self, rows: MeetingSubscriptionRepository, report: RenewalReport) -> None:
        now = self.clock.now()
        due = rows.iterate(PARTITION, query="expires_at lt @soon", parameters={"soon": now + self.renew_before})
        for row in due:
            expires = self._extend(rows, row, report)
            if expires is not None:
                rows.upsert(row.model_copy(update={"expires_at": expires}))
                report.renewed += 1

    def _move_older(self, report: RenewalReport) -> None:
        older = self.tables.control(MeetingSubscriptionRepository)
        organisations = self.tables.control(OrganisationRepository)
        found: dict[str, Organisation | None] = {}
        rows: Iterable[MeetingSubscription] = older.iterate(PARTITION)
        for row in rows:
            if row.tenant_id not in found:
                found[row.tenant_id] = organisations.find(row.tenant_id, "organisation")
            organisation = found[row.tenant_id]
            if organisation is None:  # the organisation was removed: nothing to write its events to
                self._retire(older, row, report)
                continue
            expires = self._extend(older, row, report, self.url_for(organisation.geography))
            if expires is None:
                continue
            # Written there before it is deleted here: a notification finds it in one place or the other.
            self.tables.data(organisation, MeetingSubscriptionRepository).upsert(
                row.model_copy(update={"expires_at": expires})
            )
            older.delete(PARTITION, row.id)
            report.renewed += 1
            report.moved += 1

    def _extend(
        self,
        rows: MeetingSubscriptionRepository,
        row: MeetingSubscription,
        report: RenewalReport,
        notification_url: str | None = None,
    ) -> datetime | None:
        """The subscription's new expiry; None when it was let go or could not be renewed this time."""
        now = self.clock.now()
        if row.meeting_ends_at + self.keep_after_end < now:
            self._retire(rows, row, report)
            return None
        try:
            return self.meetings.renew(row.id, now + self.lifetime, notification_url=notification_url)
        except NotFound:
            self._retire(rows, row, report)
        except MeetingUnavailable:
            report.failed += 1  # the next run tries again while the subscription lasts
        return None

    @staticmethod
    def _retire(rows: MeetingSubscriptionRepository, row: MeetingSubscription, report: RenewalReport) -> None:
        rows.delete(PARTITION, row.id)
        report.retired += 1
