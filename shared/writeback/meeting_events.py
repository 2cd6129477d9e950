"""`POST /api/events/meetings/{geography}`: change notifications about meetings' call events.

Graph first validates the URL (a `validationToken` to echo as text/plain). Every notification names its
subscription and carries the subscription's clientState secret: a notification for a subscription we do not
know is acknowledged and ignored (it may be one we deleted); a wrong clientState refuses the whole delivery.
Valid ones go to the `participant-events` queue, stripped of display names, before the delivery is
acknowledged, so a failure to queue makes Graph deliver again. The URL names the geography whose account holds
the subscription's row and the queue; `/api/events/meetings` (no geography) is the URL of subscriptions an older
version made, whose rows are in the app's account until the renewal timer moves them.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from shared.core.clock import Clock
from shared.core.errors import Forbidden, InvalidInput
from shared.core.geography import Geography
from shared.core.ttl import TtlCache
from shared.setup.tables import OrganisationRepository
from shared.storage.queue_names import PARTICIPANT_EVENTS
from shared.storage.queues import GeographyQueues
from shared.storage.routing import Tables
from shared.writeback.models import MeetingEventMessage, MeetingSubscription
from shared.writeback.tables import MeetingSubscriptionRepository

log = logging.getLogger(__name__)


NAME_KEYS = frozenset({"displayname", "name", "userprincipalname", "email", "mail", "phone"})  # any case


def client_state_hash(client_state: str) -> str:
    return hashlib.sha256(client_state.encode()).hexdigest()


def notifications(payload: Any) -> list[dict[str, Any]]:
    """A change-notification collection's notifications; InvalidInput for anything else."""
    if not isinstance(payload, dict) or not isinstance(payload.get("value"), list):
        raise InvalidInput('Expected a change-notification collection: {"value": [...]}.')
    found: list[dict[str, Any]] = []
    for notification in payload["value"]:
        if not isinstance(notification, dict):
            raise InvalidInput("Every notification is a JSON object.")
        found.append(notification)
    return found


def check_client_state(stored_hash: str, notification: dict[str, Any]) -> None:
    """A notification carries its subscription's clientState, which only Graph and we know; Forbidden otherwise."""
    given = notification.get("clientState")
    if not hmac.compare_digest(client_state_hash(given) if isinstance(given, str) else "", stored_hash):
        log.warning(
            "Notification for subscription %.40s with a wrong clientState refused", notification["subscriptionId"]
        )
        raise Forbidden("The notification's clientState does not match its subscription.")


def without_names(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_names(v) for k, v in value.items() if k.lower() not in NAME_KEYS}
    if isinstance(value, list):
        return [without_names(v) for v in value]
    return value


@dataclass(kw_only=True, eq=False)
class MeetingEvents:
    tables: Tables
    queues: GeographyQueues
    clock: Clock

    def __post_init__(self) -> None:
        # A visit's meeting notifies at every roster change: its subscription's row (the clientState hash, which a
        # renewal keeps) is read once a minute per worker, not once per notification.
        self._known: TtlCache[tuple[Geography | None, str], MeetingSubscription | None] = TtlCache(
            self.clock, timedelta(minutes=1)
        )
        self._geographies: TtlCache[str, Geography | None] = TtlCache(self.clock, timedelta(minutes=10), 256)

    def receive(self, payload: Any, geography: Geography | None) -> int:
        """Queue every notification of a known subscription of the geography (None: an older version's, in the
        app's account) on that geography's queue; how many were queued."""
        rows = (
            self.tables.in_geography(geography, MeetingSubscriptionRepository)
            if geography is not None
            else self.tables.control(MeetingSubscriptionRepository)
        )
        accepted: list[tuple[Geography, MeetingEventMessage]] = []
        for notification in notifications(payload):
            subscription_id = str(notification.get("subscriptionId") or "")
            subscription = self._known.get(
                (geography, subscription_id), partial(rows.find, "subscriptions", subscription_id)
            )
            if subscription is None:
                self._known.forget((geography, subscription_id))  # a subscription made a moment ago is found next time
                log.info("Notification for an unknown subscription ignored")
                continue
            check_client_state(subscription.client_state_hash, notification)
            home = geography or self._geography_of(subscription.tenant_id)
            if home is None:
                log.info("Notification for a subscription of a removed organisation ignored")
                continue
            accepted.append((home, self._message(subscription, notification)))
        for home, message in accepted:
            self.queues.send(home, PARTICIPANT_EVENTS, message)
        return len(accepted)

    def _geography_of(self, tenant_id: str) -> Geography | None:
        def read() -> Geography | None:
            organisation = self.tables.control(OrganisationRepository).find(tenant_id, "organisation")
            return organisation.geography if organisation is not None else None

        return self._geographies.get(tenant_id, read)

    def _message(self, subscription: MeetingSubscription, notification: dict[str, Any]) -> MeetingEventMessage:
        data = notification.get("resourceData")
        event_id = (
            str(notification.get("id") or "") or hashlib.sha256(repr(sorted(notification.items())).encode()).hexdigest()
        )
        return MeetingEventMessage(
            event_id=event_id,
            subscription_id=subscription.id,
            tenant_id=subscription.tenant_id,
            endpoint_id=subscription.endpoint_id,
            appointment_key=subscription.appointment_key,
            change_type=str(notification.get("changeType") or ""),
            resource=str(notification.get("resource") or ""),
            data=without_names(data) if isinstance(data, dict) else {},
            received_at=self.clock.now(),
        )
