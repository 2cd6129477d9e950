"""The local meeting provider: meetings on the dev host's meeting page (a lobby and an admit button), so that
`make run` shows the whole visit flow without Microsoft Teams. Like Graph's createOrGet, the same organizer
and external ID always give the same meeting. Like Teams, it keeps a call record of each call (the meeting page
writes it when the call ends, and notifies the call-records subscription), whose figures are the loopback's:
no media flows locally, so they say nothing of a real network."""

from __future__ import annotations

import hashlib
import threading
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import quote

from shared.core.errors import NotFound
from shared.core.usage import usage
from shared.visits.providers import DialIn, EventSubscription, Meeting, MeetingRequest, MeetingUnavailable

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
    expires_at: datetime  # Graph's notifications carry it (subscriptionExpirationDateTime)


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

    def renew(self, subscription_id: str, expires_at: datetime, notification_url: str | None = None) -> bool:
        with self._lock:
            found = self._by_id.get(subscription_id)
            if found is not None:
                url = notification_url or found.notification_url
                self._by_id[subscription_id] = replace(found, expires_at=expires_at, notification_url=url)
            return found is not None

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
        usage.record("graph", "POST createOrGet")  # the Graph call this stands in for
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

    def virtual_appointment_url(self, organizer_id: str, meeting_id: str, access_token: str) -> str:
        """The local room's patient door, marked as a Virtual Appointment link (the local issuer's token is not
        checked here: the Graph stub of the tests checks delegated tokens as Graph does)."""
        usage.record("graph", "GET getVirtualAppointmentJoinWebUrl")  # the Graph call this stands in for
        if not access_token:
            raise MeetingUnavailable("No delegated token.")
        return f"{self._base}/dev/meetings/{quote(meeting_id)}?role=guest&via=virtual-appointment"

    def subscribe(
        self, meeting: Meeting, notification_url: str, client_state: str, expires_at: datetime, *, tenant_id: str
    ) -> EventSubscription:
        # A GUID, as Graph's subscription IDs are (a notification's subscriptionId is an Edm.Guid).
        usage.record("graph", "POST subscriptions")  # the Graph call this stands in for
        subscription = LocalSubscription(
            str(uuid.uuid4()), meeting.meeting_id, notification_url, client_state, tenant_id, expires_at
        )
        self._subscriptions.add(subscription)
        return EventSubscription(subscription.id, expires_at)

    def subscribe_call_records(
        self, notification_url: str, client_state: str, expires_at: datetime
    ) -> EventSubscription:
        usage.record("graph", "POST subscriptions")  # the Graph call this stands in for
        subscription = LocalSubscription(str(uuid.uuid4()), "", notification_url, client_state, "", expires_at)
        self._records.subscription = subscription
        return EventSubscription(subscription.id, expires_at)

    def call_record(self, record_id: str, *, full: bool) -> dict[str, Any]:
        usage.record("graph", "GET callRecords")  # the Graph call this stands in for
        record = self._records.records.get(record_id)
        if record is None:
            raise NotFound("No such local call record (the dev host restarted).")
        return record if full else {k: v for k, v in record.items() if k != "sessions"}

    def renew(self, subscription_id: str, expires_at: datetime, *, notification_url: str | None = None) -> datetime:
        usage.record("graph", "PATCH subscriptions")  # the Graph call this stands in for
        current = self._records.subscription
        if current is not None and current.id == subscription_id:
            self._records.subscription = replace(current, expires_at=expires_at)
            return expires_at
        if not self._subscriptions.renew(subscription_id, expires_at, notification_url):
            raise NotFound("The local meeting's subscription is gone (the dev host restarted).")
        return expires_at
