"""`POST /api/events/meetings/{geography}`: Graph's validation handshake, clientState checks, unknown
subscriptions ignored, valid notifications queued on `participant-events` in the geography's account without names;
an older version's subscriptions (rows in the app's account, the URL without a geography) still work."""

from __future__ import annotations

import json
import secrets
import threading
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from shared.core.geography import Geography
from shared.runtime import get_runtime
from shared.setup.tables import OrganisationRepository
from shared.storage.queue_names import PARTICIPANT_EVENTS
from shared.writeback.meeting_events import client_state_hash
from shared.writeback.models import MeetingEventMessage, MeetingSubscription
from shared.writeback.tables import MeetingSubscriptionRepository
from tests.conftest import AppHost
from tests.support.notifications import change_notification
from tests.support.portal import Tenant

EU = "/api/events/meetings/eu"

STATE = secrets.token_urlsafe(24)


@pytest.fixture
def subscription(app: AppHost) -> MeetingSubscription:
    now = datetime.now(UTC)
    item = MeetingSubscription(
        id=str(uuid.uuid4()),
        tenant_id=str(uuid.uuid4()),
        endpoint_id=uuid.uuid4().hex[:16],
        appointment_key=uuid.uuid4().hex + "abcdefgh",
        client_state_hash=client_state_hash(STATE),
        meeting_id="MSo" + uuid.uuid4().hex,
        meeting_ends_at=now + timedelta(hours=1),
        expires_at=now + timedelta(days=2),
        created_at=now,
    )
    get_runtime().platform.tables.in_geography(Geography.EU, MeetingSubscriptionRepository).upsert(item)
    return item


def notification(subscription: MeetingSubscription, client_state: str = STATE) -> dict[str, object]:
    data = {
        "callEventType": "rosterUpdated",
        "activeParticipants@joined": [{"Id": "p1", "Identity": {"User": {"Id": "u1", "DisplayName": "Pat Patient"}}}],
    }
    return change_notification(
        subscription_id=subscription.id,
        client_state=client_state,
        resource="communications/onlineMeetings/x/meetingCallEvents",
        expires=subscription.expires_at.isoformat(),
        tenant_id=subscription.tenant_id,
        data=data,
    )


def queued_for(subscription: MeetingSubscription, geography: Geography = Geography.EU) -> list[MeetingEventMessage]:
    queue = get_runtime().platform.storage.for_geography(geography).queue(PARTICIPANT_EVENTS)
    found = []
    for message in queue.receive_messages(max_messages=32, visibility_timeout=1):
        event = MeetingEventMessage.model_validate_json(message.content)
        if event.subscription_id == subscription.id:
            found.append(event)
            queue.delete_message(message)
    return found


def test_the_validation_token_is_echoed_as_plain_text(app: AppHost) -> None:
    token = "Validation: Testing client application reachability for subscription Request-Id: 1 <&>"
    answer = httpx.post(f"{app.server.url}{EU}", params={"validationToken": token})
    assert answer.status_code == 200 and answer.text == token
    assert answer.headers["Content-Type"].startswith("text/plain")


def test_the_validation_handshake_is_answered_while_every_worker_thread_is_busy(app: AppHost) -> None:
    """Under load, every worker thread can be a launch waiting for Graph to create a subscription, and Graph waits
    for this handshake: it must not need a worker thread (before it did, 50 concurrent launches starved)."""
    release = threading.Event()
    busy = [app.host._executor.submit(release.wait, 30) for _ in range(app.host._executor._max_workers)]
    try:
        answer = httpx.post(f"{app.server.url}{EU}", params={"validationToken": "Validation: busy"}, timeout=5)
        assert answer.status_code == 200 and answer.text == "Validation: busy"
    finally:
        release.set()
        for waiting in busy:
            waiting.result()


def test_a_notification_is_queued_without_names(app: AppHost, subscription: MeetingSubscription) -> None:
    body = {"value": [notification(subscription)]}
    answer = httpx.post(f"{app.server.url}{EU}", json=body)
    assert answer.status_code == 202
    (event,) = queued_for(subscription)
    assert (event.tenant_id, event.appointment_key) == (subscription.tenant_id, subscription.appointment_key)
    assert event.data["activeParticipants@joined"][0]["Identity"]["User"] == {"Id": "u1"}
    assert "Pat Patient" not in event.model_dump_json()


def test_a_wrong_client_state_is_refused_and_nothing_is_queued(app: AppHost, subscription: MeetingSubscription) -> None:
    body = {"value": [notification(subscription), notification(subscription, client_state="guess")]}
    answer = httpx.post(f"{app.server.url}{EU}", json=body)
    assert answer.status_code == 403 and answer.headers["Content-Type"].startswith("application/problem+json")
    assert queued_for(subscription) == []


def test_unknown_subscriptions_are_acknowledged_and_ignored(app: AppHost, subscription: MeetingSubscription) -> None:
    stranger = subscription.model_copy(update={"id": str(uuid.uuid4())})
    answer = httpx.post(f"{app.server.url}{EU}", json={"value": [notification(stranger)]})
    assert answer.status_code == 202
    assert queued_for(stranger) == []


@pytest.mark.parametrize("body", [b"not json", json.dumps({"value": "x"}).encode(), b"[1]"])
def test_malformed_deliveries_get_400(app: AppHost, body: bytes) -> None:
    answer = httpx.post(f"{app.server.url}{EU}", content=body)
    assert answer.status_code == 400


def test_a_notification_is_looked_up_in_its_urls_geography_only(
    app: AppHost, subscription: MeetingSubscription
) -> None:
    # The EU subscription's notification posted to the US URL: not a subscription of the US, so nothing is queued.
    answer = httpx.post(f"{app.server.url}/api/events/meetings/us", json={"value": [notification(subscription)]})
    assert answer.status_code == 202
    assert queued_for(subscription) == [] and queued_for(subscription, Geography.US) == []


@pytest.mark.parametrize("segment", ["EU", "mars", "eu.", "us-east"])
def test_a_url_naming_no_geography_is_a_404_that_reads_nothing(
    app: AppHost, subscription: MeetingSubscription, segment: str
) -> None:
    answer = httpx.post(f"{app.server.url}/api/events/meetings/{segment}", json={"value": [notification(subscription)]})
    assert answer.status_code == 404 and answer.headers["Content-Type"].startswith("application/problem+json")
    assert "geography" in answer.json()["detail"]
    assert queued_for(subscription) == []


def test_an_older_versions_subscription_still_delivers_to_its_organisations_geography(
    app: AppHost, tenant: Tenant
) -> None:
    """Before geography routing, rows were in the app's account and the URL named no geography: until the renewal
    timer moves such a subscription, its notifications are taken there and queued in the organisation's geography."""
    platform = get_runtime().platform
    geography = platform.tables.control(OrganisationRepository).get(tenant.id, "organisation").geography
    now = datetime.now(UTC)
    older = MeetingSubscription(
        id=str(uuid.uuid4()),
        tenant_id=tenant.id,
        endpoint_id=uuid.uuid4().hex[:16],
        appointment_key=uuid.uuid4().hex + "abcdefgh",
        client_state_hash=client_state_hash(STATE),
        meeting_id="MSo" + uuid.uuid4().hex,
        meeting_ends_at=now + timedelta(hours=1),
        expires_at=now + timedelta(days=2),
        created_at=now,
    )
    platform.tables.control(MeetingSubscriptionRepository).upsert(older)
    answer = httpx.post(f"{app.server.url}/api/events/meetings", json={"value": [notification(older)]})
    assert answer.status_code == 202
    (event,) = queued_for(older, geography)
    assert event.appointment_key == older.appointment_key
    in_app = platform.storage.app.queue(PARTICIPANT_EVENTS).peek_messages(max_messages=32)
    assert not any(older.id in str(message.content) for message in in_app)
