"""The writeback tables: settings and the call-records subscription in the app's account; meetings' subscriptions,
their join URLs and failed writebacks in the organisation's geography."""

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
    """A meeting's subscription (data plane: its visit's appointment key and meeting ID), found by the geography its
    notification URL names. Versions before geography routing kept them in the app's account, where the renewal
    timer finds them and moves them."""


class WritebackSettingsRepository(
    TableRepository[WritebackSettings], table="writebacksettings", keys=("{tenant_id}", "{endpoint_id}")
):
    """Per endpoint (control plane)."""


class WritebackFailureRepository(
    TableRepository[WritebackFailure], table="writebackfailures", keys=("{tenant_id}", "{id}")
):
    """Failed writebacks of an organisation, by event ID (data plane)."""


class MeetingJoinRepository(TableRepository[MeetingJoin], table="meetingjoins", keys=("{join_hash:.2}", "{join_hash}")):
    """Join URL hash -> visit (data plane), spread over partitions by the hash's first characters. Versions before
    geography routing kept them in the app's account, read until they age out."""


class CallRecordSubscriptionRepository(
    TableRepository[CallRecordSubscription], table="callrecordsubscriptions", keys=("callrecords", "{id}")
):
    """The call-records subscription (control plane)."""
