"""The local meeting provider: meetings on the dev host's meeting page (a lobby and an admit button), so that
`make run` shows the whole visit flow without Microsoft Teams. Like Graph's createOrGet, the same organizer
and external ID always give the same meeting."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from shared.meetings import Meeting, MeetingRequest


class LocalMeetingProvider:
    def __init__(self, public_base: str) -> None:
        self._base = public_base.rstrip("/")

    def create_or_get(self, request: MeetingRequest) -> Meeting:
        digest = hashlib.sha256(f"{request.organizer_id}|{request.external_id}".encode()).hexdigest()[:20]
        room = f"{self._base}/dev/meetings/{quote(digest)}"
        return Meeting(
            meeting_id=digest,
            organizer_id=request.organizer_id,
            join_url=f"{room}?role=clinician",
            browser_join_url=f"{room}?role=guest",
        )
