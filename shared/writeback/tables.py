"""The writeback tables: subscriptions and settings in the app's account; failed writebacks in the organisation's
geography."""

from __future__ import annotations

from shared.storage.repository import TableRepository
from shared.writeback.models import (
    CallRecordSubscription,
    MeetingJoin,
    MeetingSubscription,
    WritebackFailure,
    WritebackSettings,
)


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


class MeetingJoinRepository(TableRepository[MeetingJoin], table="meetingjoins", keys=("{join_hash:.2}", "{join_hash}")):
    """Join URL hash -> visit (control plane), spread over partitions by the hash's first characters."""


class CallRecordSubscriptionRepository(
    TableRepository[CallRecordSubscription], table="callrecordsubscriptions", keys=("callrecords", "{id}")
):
    """The call-records subscription (control plane)."""
