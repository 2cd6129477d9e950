"""Online meetings: one per appointment key, created on first use and reused after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.core.errors import UpstreamError


@dataclass(frozen=True)
class MeetingRequest:
    external_id: str  # the appointment key: the provider's idempotency key
    organizer_id: str
    subject: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class DialIn:
    """How to join a meeting by phone, when its organizer has audio conferencing: the meeting's numbers and ID, no
    one's personal data."""

    conference_id: str
    toll_number: str | None = None
    toll_free_number: str | None = None
    dialin_url: str | None = None

    @classmethod
    def of(cls, audio: object) -> DialIn | None:
        """From Graph's `audioConferencing` (None when absent, or without an ID and a number to call)."""
        if not isinstance(audio, dict):
            return None
        texts = {name: value for name, value in audio.items() if isinstance(value, str) and value.strip()}
        conference = texts.get("conferenceId")
        if not conference or not (texts.get("tollNumber") or texts.get("tollFreeNumber")):
            return None
        return cls(conference, texts.get("tollNumber"), texts.get("tollFreeNumber"), texts.get("dialinUrl"))


@dataclass(frozen=True)
class Meeting:
    meeting_id: str
    organizer_id: str
    join_url: str  # for clinicians (organisation members bypass the lobby)
    browser_join_url: str  # anonymous browser join for patients and guests (they wait in the lobby)
    dial_in: DialIn | None = None

    @staticmethod
    def dial_in_of(graph_meeting: dict[str, object]) -> DialIn | None:
        """The dial-in of Graph's onlineMeeting (its `audioConferencing`), if it has one."""
        return DialIn.of(graph_meeting.get("audioConferencing"))


@dataclass(frozen=True)
class EventSubscription:
    id: str
    expires_at: datetime


class MeetingUnavailable(UpstreamError):
    title = "The meeting service is unavailable"


class OrganizerRefused(MeetingUnavailable):
    """The service will not create meetings for this organizer (not covered by the application access policy,
    or no longer a user)."""


class MeetingProvider(Protocol):
    def create_or_get(self, request: MeetingRequest) -> Meeting:
        """The meeting for `request.external_id` and organizer, created if it does not exist yet.

        Raises OrganizerRefused when the organizer may not have meetings made for them, MeetingUnavailable when
        the service keeps failing.
        """
        ...

    def virtual_appointment_url(self, organizer_id: str, meeting_id: str, access_token: str) -> str:
        """The meeting's Virtual Appointment join URL (mobile-browser join, the virtual lobby), read with its
        organizer's delegated `access_token`. Raises MeetingUnavailable."""
        ...

    def subscribe(
        self, meeting: Meeting, notification_url: str, client_state: str, expires_at: datetime, *, tenant_id: str
    ) -> EventSubscription:
        """Ask for the meeting's call events (joined, left, started, ended) at `notification_url`, each
        carrying `client_state`; `tenant_id` is the organisation's Entra tenant, whose users are clinicians.
        Raises MeetingUnavailable."""
        ...

    def renew(self, subscription_id: str, expires_at: datetime, *, notification_url: str | None = None) -> datetime:
        """Extend a subscription (and deliver to `notification_url` from now on, when given); its new expiry.
        Raises MeetingUnavailable (NotFound if it is gone)."""
        ...
