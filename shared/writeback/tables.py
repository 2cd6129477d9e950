"""The writeback tables: subscriptions and settings in the app's account; visit events and failed writebacks in
the organisation's geography."""

from __future__ import annotations

from shared.storage.repository import TableRepository
from shared.writeback.models import MeetingSubscription, VisitEvent, WritebackFailure, WritebackSettings


class MeetingSubscriptionRepository(
    TableRepository[MeetingSubscription], table="meetingsubscriptions", keys=("subscriptions", "{id}")
):
    """One partition: a notification names only its subscription (control plane)."""


class WritebackSettingsRepository(
    TableRepository[WritebackSettings], table="writebacksettings", keys=("{tenant_id}", "{endpoint_id}")
):
    """Per endpoint (control plane)."""


class VisitEventRepository(TableRepository[VisitEvent], table="visitevents", keys=("{appointment_key}", "{id}")):
    """A visit's events in one partition (data plane)."""


class WritebackFailureRepository(
    TableRepository[WritebackFailure], table="writebackfailures", keys=("{tenant_id}", "{id}")
):
    """Failed writebacks of an organisation, by event ID (data plane)."""
