"""What the tests send to our webhooks as Microsoft would, built in one place so that tests/contracts holds every
one of them to the published descriptions: Graph's change notifications (changeNotification in Graph's v1.0
metadata) and Event Grid's events from Azure Communication Services (the SDK's system event models)."""

from __future__ import annotations

import uuid
from typing import Any

from dev.fakes.event_grid import ACS_TOPIC, event_grid_event, now, sms_received
from shared.messaging.delivery import DELIVERY, VALIDATION

__all__ = ["ACS_TOPIC", "event_grid_event", "sms_received"]


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


def subscription_validation(code: str) -> dict[str, Any]:
    url = f"https://rp-eastus2.eventgrid.azure.net:553/eventsubscriptions/sms/validate?id={code}&t={now()}"
    data = {"validationCode": code, "validationUrl": url}
    topic = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/connector"
    return event_grid_event(VALIDATION, data, topic=topic) | {"dataVersion": "2"}


def sms_delivery_report(
    *, message_id: str, sender: str, to: str, status: str, details: str, tag: str
) -> dict[str, Any]:
    succeeded = 1 if status == "Delivered" else 0
    attempt = {"timestamp": now(), "segmentsSucceeded": succeeded, "segmentsFailed": 1 - succeeded}
    data = {
        "messageId": message_id,
        "from": sender,
        "to": to,
        "deliveryStatus": status,
        "deliveryStatusDetails": details,
        "deliveryAttempts": [attempt],
        "receivedTimestamp": now(),
        "tag": tag,
    }
    return event_grid_event(DELIVERY, data, subject=f"/phonenumber/{to.lstrip('+')}")
