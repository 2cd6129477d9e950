"""The local meeting provider: meetings on the dev host's meeting page (a lobby and an admit button), so that
`make run` shows the whole visit flow without Microsoft Teams. Like Graph's createOrGet, the same organizer
and external ID always give the same meeting. Like Teams, it keeps a call record of each call (the meeting page
writes it when the call ends, and notifies the call-records subscription), whose figures are the loopback's:
no media flows locally, so they say nothing of a real network."""

from __future__ import annotations

import hashlib
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from shared.core.errors import NotFound
from shared.visits.providers import DialIn, EventSubscription, Meeting, MeetingRequest

# Local meetings offer a phone number too, as Teams does when the organizer has audio conferencing, so `make run`
# shows the dial-in; 555-01xx numbers are set aside for fiction, and the conference ID is made per meeting.
LOCAL_TOLL_NUMBER = "+1 217-555-0100"


@dataclass(frozen=True)
class LocalSubscription:
    id: str
    meeting_id: str
    notification_url: str
    client_state: str
    tenant_id: str


class LocalSubscriptions:
    """Who wants a local meeting's events: the dev meeting page posts them as Graph would (same process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, LocalSubscription] = {}

    def add(self, subscription: LocalSubscription) -> None:
        with self._lock:
            self._by_id[subscription.id] = subscription

    def exists(self, subscription_id: str) -> bool:
        with self._lock:
            return subscription_id in self._by_id

    def for_meeting(self, meeting_id: str) -> list[LocalSubscription]:
        with self._lock:
            return [s for s in self._by_id.values() if s.meeting_id == meeting_id]


LOCAL_SUBSCRIPTIONS = LocalSubscriptions()


@dataclass
class LocalCallRecords:
    """The local meetings' call records and the one subscription to them (in memory, like the meetings)."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscription: LocalSubscription | None = None
    meetings: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Meeting ID -> (its join URL, its organizer), as created."""
    dial_ins: dict[str, DialIn] = field(default_factory=dict)
    """Meeting ID -> how to call in, for meetings that offer it (the meeting page shows it)."""


LOCAL_CALL_RECORDS = LocalCallRecords()


class LocalMeetingProvider:
    def __init__(
        self,
        public_base: str,
        subscriptions: LocalSubscriptions = LOCAL_SUBSCRIPTIONS,
        call_records: LocalCallRecords = LOCAL_CALL_RECORDS,
        *,
        audio_conferencing: bool = True,
    ) -> None:
        self._base = public_base.rstrip("/")
        self._audio = audio_conferencing
        self._subscriptions = subscriptions
        self._records = call_records

    def create_or_get(self, request: MeetingRequest) -> Meeting:
        digest = hashlib.sha256(f"{request.organizer_id}|{request.external_id}".encode()).hexdigest()[:20]
        room = f"{self._base}/dev/meetings/{quote(digest)}"
        self._records.meetings[digest] = (f"{room}?role=clinician", request.organizer_id)
        dial_in = DialIn(str(int(digest[:8], 16) % 10**9).zfill(9), LOCAL_TOLL_NUMBER) if self._audio else None
        if dial_in is not None:
            self._records.dial_ins[digest] = dial_in
        return Meeting(
            meeting_id=digest,
            organizer_id=request.organizer_id,
            join_url=f"{room}?role=clinician",
            browser_join_url=f"{room}?role=guest",
            dial_in=dial_in,
        )

    def subscribe(
        self, meeting: Meeting, notification_url: str, client_state: str, expires_at: datetime, *, tenant_id: str
    ) -> EventSubscription:
        subscription = LocalSubscription(
            f"local-{uuid.uuid4().hex}", meeting.meeting_id, notification_url, client_state, tenant_id
        )
        self._subscriptions.add(subscription)
        return EventSubscription(subscription.id, expires_at)

    def subscribe_call_records(
        self, notification_url: str, client_state: str, expires_at: datetime
    ) -> EventSubscription:
        subscription = LocalSubscription(f"local-{uuid.uuid4().hex}", "", notification_url, client_state, "")
        self._records.subscription = subscription
        return EventSubscription(subscription.id, expires_at)

    def call_record(self, record_id: str, *, full: bool) -> dict[str, Any]:
        record = self._records.records.get(record_id)
        if record is None:
            raise NotFound("No such local call record (the dev host restarted).")
        return record if full else {k: v for k, v in record.items() if k != "sessions"}

    def renew(self, subscription_id: str, expires_at: datetime) -> datetime:
        current = self._records.subscription
        if current is not None and current.id == subscription_id:
            return expires_at
        if not self._subscriptions.exists(subscription_id):
            raise NotFound("The local meeting's subscription is gone (the dev host restarted).")
        return expires_at
