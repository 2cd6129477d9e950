"""Teams call records as Graph answers them (callRecords.callRecord, its sessions, segments and media streams), for
the tests that put them in the Graph stub."""

from __future__ import annotations

import uuid
from typing import Any


def stream(
    jitter: str, loss: float, rtt: str, *, degradation: float | None = None, packets: int = 5000
) -> dict[str, Any]:
    return {
        "streamDirection": "callerToCallee",
        "averageJitter": jitter,
        "maxJitter": jitter.replace("PT0.0", "PT0.1"),
        "averagePacketLossRate": loss,
        "maxPacketLossRate": min(1.0, loss * 2),
        "averageRoundTripTime": rtt,
        "maxRoundTripTime": rtt,
        "averageAudioDegradation": degradation,
        "packetUtilization": packets,
    }


def session(identity: dict[str, Any], audio: dict[str, Any], video: dict[str, Any] | None = None) -> dict[str, Any]:
    media = [{"label": "main-audio", "streams": [audio, {**audio, "streamDirection": "calleeToCaller"}]}]
    if video is not None:
        media.append({"label": "main-video", "streams": [video]})
    caller = {
        "@odata.type": "#microsoft.graph.callRecords.participantEndpoint",
        "identity": identity,
        "userAgent": {
            "@odata.type": "#microsoft.graph.callRecords.clientUserAgent",
            "headerValue": "Teams",
            "platform": "windows",
        },
    }
    callee = {
        "@odata.type": "#microsoft.graph.callRecords.serviceEndpoint",
        "userAgent": {
            "@odata.type": "#microsoft.graph.callRecords.serviceUserAgent",
            "role": "skypeForBusinessAudioVideoMcu",
        },
    }
    segment = {"id": str(uuid.uuid4()), "caller": caller, "callee": callee, "media": media}
    return {"id": str(uuid.uuid4()), "caller": caller, "callee": callee, "segments": [segment]}


# A participant's identity in a call record is a communicationsIdentitySet: `user` (with its tenant, a
# communicationsUserIdentity) or `guest`, each named by its @odata.type, as Graph answers them.
IDENTITY_SET = "#microsoft.graph.communicationsIdentitySet"


def user(object_id: str, tenant_id: str, display_name: str | None = None) -> dict[str, Any]:
    member = {"@odata.type": "#microsoft.graph.communicationsUserIdentity", "id": object_id, "tenantId": tenant_id}
    return {"@odata.type": IDENTITY_SET, "user": member | _named(display_name)}


def guest(guest_id: str, display_name: str | None = None) -> dict[str, Any]:
    member = {"@odata.type": "#microsoft.graph.communicationsGuestIdentity", "id": guest_id}
    return {"@odata.type": IDENTITY_SET, "guest": member | _named(display_name)}


def _named(display_name: str | None) -> dict[str, str]:
    return {"displayName": display_name} if display_name else {}
