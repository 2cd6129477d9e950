"""The writeback tables: subscriptions and settings in the app's account; failed writebacks in the organisation's
geography."""

from __future__ import annotations

from shared.storage.repository import TableRepository
from shared.writeback.models import MeetingSubscription, WritebackFailure, WritebackSettings


class MeetingSubscriptionRepository(
    TableRepository[MeetingSubscription], table="meetingsubscriptions", keys=("subscriptions", "{id}")
):
    """One partition: a notification names only its subscription (control plane)."""


class WritebackSettingsRepository(
    TableRepository[WritebackSettings], table="writebacksettings", keys=("{tenant_id}", "{endpoint_id}")
):
    """Per endpoint (control plane)."""


class WritebackFailureRepository(
    TableRepository[WritebackFailure], table="writebackfailures", keys=("{tenant_id}", "{id}")
):
    """Failed writebacks of an organisation, by event ID (data plane)."""
