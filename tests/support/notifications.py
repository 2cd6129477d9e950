"""What the tests send to our webhooks as Microsoft would, built in one place so that tests/contracts holds every
one of them to the published descriptions: Graph's change notifications (changeNotification in Graph's v1.0
metadata) and Event Grid's events from Azure Communication Services (the SDK's system event models)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from shared.messaging.delivery import DELIVERY, RECEIVED, VALIDATION

ACS_TOPIC = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/connector"
    "/providers/microsoft.communication/communicationservices/connector-acs"
)


def change_notification(
    *,
    subscription_id: str,
    client_state: str,
    resource: str,
    expires: str,
    data: dict[str, Any],
    change_type: str = "updated",
    tenant_id: str | None = None,
    notification_id: str | None = None,
) -> dict[str, Any]:
    """One notification of a change-notification collection (`{"value": [...]}`), with every property Graph
    declares non-nullable."""
    return {
        "id": notification_id or str(uuid.uuid4()),
        "subscriptionId": subscription_id,
        "subscriptionExpirationDateTime": expires,
        "tenantId": tenant_id or str(uuid.uuid4()),
        "clientState": client_state,
        "changeType": change_type,
        "resource": resource,
        "resourceData": data,
    }


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def event_grid_event(event_type: str, data: Any, *, subject: str = "", topic: str = ACS_TOPIC) -> dict[str, Any]:
    """An Event Grid schema event as Event Grid delivers it (metadataVersion is the service's own)."""
    return {
        "id": str(uuid.uuid4()),
        "topic": topic,
        "subject": subject,
        "eventType": event_type,
        "eventTime": _now(),
        "metadataVersion": "1",
        "dataVersion": "1.0",
        "data": data,
    }


def subscription_validation(code: str) -> dict[str, Any]:
    url = f"https://rp-eastus2.eventgrid.azure.net:553/eventsubscriptions/sms/validate?id={code}&t={_now()}"
    data = {"validationCode": code, "validationUrl": url}
    topic = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/connector"
    return event_grid_event(VALIDATION, data, topic=topic) | {"dataVersion": "2"}


def sms_delivery_report(
    *, message_id: str, sender: str, to: str, status: str, details: str, tag: str
) -> dict[str, Any]:
    succeeded = 1 if status == "Delivered" else 0
    attempt = {"timestamp": _now(), "segmentsSucceeded": succeeded, "segmentsFailed": 1 - succeeded}
    data = {
        "messageId": message_id,
        "from": sender,
        "to": to,
        "deliveryStatus": status,
        "deliveryStatusDetails": details,
        "deliveryAttempts": [attempt],
        "receivedTimestamp": _now(),
        "tag": tag,
    }
    return event_grid_event(DELIVERY, data, subject=f"/phonenumber/{to.lstrip('+')}")


def sms_received(*, message_id: str, sender: str, to: str, message: str) -> dict[str, Any]:
    data = {
        "messageId": message_id,
        "from": sender,
        "to": to,
        "message": message,
        "receivedTimestamp": _now(),
        "segmentCount": 1,
    }
    return event_grid_event(RECEIVED, data, subject=f"/phonenumber/{sender.lstrip('+')}")
