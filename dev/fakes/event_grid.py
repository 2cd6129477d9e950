"""Event Grid's events from Azure Communication Services, as Event Grid delivers them: what the dev host's
sandbox (a patient's reply) and the tests send to the connector's webhook, built in one place that
tests/contracts holds to the published descriptions (the SDK's system event models)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from shared.messaging.delivery import RECEIVED

ACS_TOPIC = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/connector"
    "/providers/microsoft.communication/communicationservices/connector-acs"
)


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def event_grid_event(event_type: str, data: Any, *, subject: str = "", topic: str = ACS_TOPIC) -> dict[str, Any]:
    """An Event Grid schema event as Event Grid delivers it (metadataVersion is the service's own)."""
    return {
        "id": str(uuid.uuid4()),
        "topic": topic,
        "subject": subject,
        "eventType": event_type,
        "eventTime": now(),
        "metadataVersion": "1",
        "dataVersion": "1.0",
        "data": data,
    }


def sms_received(*, message_id: str, sender: str, to: str, message: Any) -> dict[str, Any]:
    """A patient's text to one of the connector's numbers; the event's ID is the message's (Event Grid delivers
    each at least once, with its ID)."""
    data = {
        "messageId": message_id,
        "from": sender,
        "to": to,
        "message": message,
        "receivedTimestamp": now(),
        "segmentCount": 1,
    }
    event = event_grid_event(RECEIVED, data, subject=f"/phonenumber/{sender.lstrip('+')}")
    return event | {"id": message_id}
