"""Microsoft Teams call records through Graph (`CallRecords.Read.All`, application): a subscription to the
tenant's records as they are created, and each record read as JSON, first only its meeting and times (most of a
tenant's calls are not the connector's visits), then with every session and segment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from shared.visits.providers import EventSubscription
from shared.visits.providers.graph import GraphMeetingProvider
from shared.visits.providers.graph_wire import iso


@dataclass(eq=False)
class GraphCallRecords:
    graph: GraphMeetingProvider

    def renew(self, subscription_id: str, expires_at: datetime) -> datetime:
        """On v1.0, where the subscription was made (the meetings' call-event subscriptions are beta's)."""
        return self.graph.renew(subscription_id, expires_at, base=self.graph.base_url)

    def subscribe_call_records(
        self, notification_url: str, client_state: str, expires_at: datetime
    ) -> EventSubscription:
        """The tenant's call records, as each is created (about 15 minutes after a call ends)."""
        body = {
            "changeType": "created",
            "notificationUrl": notification_url,
            "resource": "/communications/callRecords",
            "expirationDateTime": iso(expires_at),
            "clientState": client_state,
        }
        answer = self.graph.json_call(
            "POST", "/subscriptions", body, "subscribe to call records", base=self.graph.base_url
        )
        return EventSubscription(str(answer["id"]), datetime.fromisoformat(answer["expirationDateTime"]))

    def call_record(self, record_id: str, *, full: bool) -> dict[str, Any]:
        """A call record: its meeting (joinWebUrl) and times, or (`full`) with every session and its segments,
        following the sessions' next links."""
        path = f"/communications/callRecords/{quote(record_id, safe='')}"
        query = "?$expand=sessions($expand=segments)" if full else "?$select=id,joinWebUrl,startDateTime,endDateTime"
        record = self.graph.json_call("GET", path + query, None, "read a call record", base=self.graph.base_url)
        sessions = record.get("sessions")
        next_link = record.get("sessions@odata.nextLink")
        graph = self.graph.base_url.removesuffix("/v1.0") + "/"
        while full and isinstance(sessions, list) and isinstance(next_link, str) and next_link.startswith(graph):
            page = self.graph.json_call("GET", next_link, None, "read a call record's sessions", base="")
            sessions.extend(page.get("value") or [])
            next_link = page.get("@odata.nextLink")
        return record
