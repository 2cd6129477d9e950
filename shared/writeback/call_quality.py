"""A Teams call record's streams, reduced to numbers per participant role: average and worst jitter, packet loss and
round-trip time, the average audio degradation, and whether any stream was poor. No names, addresses or devices.

Each segment of a session joins a participant's endpoint to another endpoint (in a meeting, the conference
server); its streams, both directions, measure that participant's path, so they count for that participant's
role. Poor, as the Call Quality Dashboard classifies streams (Microsoft Teams, "Stream Classification in CQD"):
- audio (over 500 packets): round trip over 500 ms, packet loss over 10 %, or jitter over 30 ms;
- video: frame loss over 50 %, packet loss over 15 %, or fewer than 7 frames a second.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from shared.visits.models import ParticipantRole

_DURATION = re.compile(r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?"
                       r"(?:(?P<s>\d+(?:\.\d+)?)S)?)?$")  # fmt: skip

AUDIO_POOR_RTT_MS, AUDIO_POOR_LOSS, AUDIO_POOR_JITTER_MS, AUDIO_MIN_PACKETS = 500.0, 0.1, 30.0, 500
VIDEO_POOR_FRAME_LOSS_PERCENT, VIDEO_POOR_LOSS, VIDEO_POOR_FPS = 50.0, 0.15, 7.0


def milliseconds(value: Any) -> float | None:
    """An ISO 8601 duration (Graph's `PT0.012S`) in milliseconds; None when absent or not a duration."""
    if not isinstance(value, str) or not (match := _DURATION.match(value)) or value in ("P", "PT"):
        return None
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    return 1000 * (parts.get("d", 0) * 86400 + parts.get("h", 0) * 3600 + parts.get("m", 0) * 60 + parts.get("s", 0))


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def poor(stream: dict[str, Any], audio: bool) -> bool:
    if audio:
        packets = _number(stream.get("packetUtilization"))
        if packets is not None and packets <= AUDIO_MIN_PACKETS:
            return False
        rtt = milliseconds(stream.get("averageRoundTripTime"))
        loss = _number(stream.get("averagePacketLossRate"))
        jitter = milliseconds(stream.get("averageJitter"))
        return (
            (rtt is not None and rtt > AUDIO_POOR_RTT_MS)
            or (loss is not None and loss > AUDIO_POOR_LOSS)
            or (jitter is not None and jitter > AUDIO_POOR_JITTER_MS)
        )
    frame_loss = _number(stream.get("averageVideoFrameLossPercentage"))
    loss = _number(stream.get("averageVideoPacketLossRate"))
    fps = _number(stream.get("averageVideoFrameRate"))
    return (
        (frame_loss is not None and frame_loss > VIDEO_POOR_FRAME_LOSS_PERCENT)
        or (loss is not None and loss > VIDEO_POOR_LOSS)
        or (fps is not None and 0 < fps < VIDEO_POOR_FPS)
    )


@dataclass
class RoleQuality:
    """One role's streams in one call record."""

    streams: int = 0
    poor_streams: int = 0
    jitter: list[float] = field(default_factory=list)
    worst_jitter: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    worst_loss: list[float] = field(default_factory=list)
    rtt: list[float] = field(default_factory=list)
    worst_rtt: list[float] = field(default_factory=list)
    degradation: list[float] = field(default_factory=list)

    def add(self, stream: dict[str, Any], audio: bool) -> None:
        self.streams += 1
        self.poor_streams += poor(stream, audio)
        pairs: tuple[tuple[list[float], float | None], ...] = (
            (self.jitter, milliseconds(stream.get("averageJitter"))),
            (self.worst_jitter, milliseconds(stream.get("maxJitter"))),
            (self.loss, _number(stream.get("averagePacketLossRate"))),
            (self.worst_loss, _number(stream.get("maxPacketLossRate"))),
            (self.rtt, milliseconds(stream.get("averageRoundTripTime"))),
            (self.worst_rtt, milliseconds(stream.get("maxRoundTripTime"))),
            (self.degradation, _number(stream.get("averageAudioDegradation")) if audio else None),
        )
        for values, value in pairs:
            if value is not None:
                values.append(value)


def _endpoints(segment: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for side in ("caller", "callee"):
        endpoint = segment.get(side)
        if isinstance(endpoint, dict) and "serviceEndpoint" not in str(endpoint.get("@odata.type", "")):
            yield endpoint


def identity_of(endpoint: dict[str, Any]) -> tuple[str, str | None] | None:
    """(the participant's ID, their tenant) from an endpoint's identity set, whichever kind it is (user, guest,
    ACS or anonymous user); None for an endpoint that names nobody."""
    identity = endpoint.get("identity") or endpoint.get("associatedIdentity")
    if not isinstance(identity, dict):
        return None
    for kind in identity.values():
        if isinstance(kind, dict) and kind.get("id"):
            return str(kind["id"]), (str(kind["tenantId"]) if kind.get("tenantId") else None)
    return None


def by_role(
    record: dict[str, Any], role: Callable[[str, str | None], ParticipantRole]
) -> dict[ParticipantRole, RoleQuality]:
    """Every stream of every segment, under the role `role(participant ID, tenant)` gives its participant."""
    roles: dict[ParticipantRole, RoleQuality] = {}
    for session in record.get("sessions") or []:
        for segment in session.get("segments") or [] if isinstance(session, dict) else []:
            participant = next((who for e in _endpoints(segment) if (who := identity_of(e))), None)
            if participant is None:
                continue
            quality = roles.setdefault(role(*participant), RoleQuality())
            for media in segment.get("media") or []:
                audio = "audio" in str(media.get("label", "")).lower()
                for stream in media.get("streams") or []:
                    if isinstance(stream, dict):
                        quality.add(stream, audio)
    return roles
