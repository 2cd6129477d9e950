"""One repository per table. Control-plane tables live in the app's account; data-plane tables in the
organisation's geography (see dataplane.py)."""

from __future__ import annotations

from shared.models.audit import AuditEntry
from shared.models.ehr_user import EhrUser
from shared.models.endpoint import EndpointUrl, FhirEndpoint
from shared.models.launch import LaunchState
from shared.models.organisation import Organisation
from shared.models.participants import MeetingSubscription, VisitEvent
from shared.models.phone_numbers import PhoneNumber, PhoneNumberJob
from shared.models.reports import VisitSummary
from shared.models.sms import (
    Consent,
    OptOut,
    OutboxMessage,
    SigningCertificate,
    SmsMessageStatus,
    SmsSettings,
)
from shared.models.visit import Appointment, MeetingLink, ReminderCursor, ReminderDue
from shared.models.writeback import WritebackFailure, WritebackSettings
from shared.storage.repository import TableRepository


class OrganisationRepository(TableRepository[Organisation]):
    table_name = "organisations"
    model = Organisation

    def keys(self, item: Organisation) -> tuple[str, str]:
        return item.tenant_id, "organisation"


class EhrUserRepository(TableRepository[EhrUser]):
    table_name = "ehrusers"
    model = EhrUser

    def keys(self, item: EhrUser) -> tuple[str, str]:
        return item.endpoint_id, item.ehr_user_id


class FhirEndpointRepository(TableRepository[FhirEndpoint]):
    table_name = "fhirendpoints"
    model = FhirEndpoint

    def keys(self, item: FhirEndpoint) -> tuple[str, str]:
        return item.tenant_id, item.id


class EndpointUrlRepository(TableRepository[EndpointUrl]):
    """By base URL, then tenant: unique within an organisation, and the lookup of a launch's `iss`."""

    table_name = "endpointurls"
    model = EndpointUrl

    def keys(self, item: EndpointUrl) -> tuple[str, str]:
        return item.base_url, item.tenant_id


class LaunchStateRepository(TableRepository[LaunchState]):
    table_name = "launchstates"
    model = LaunchState

    def keys(self, item: LaunchState) -> tuple[str, str]:
        return state_partition(item.state), item.state


def state_partition(state: str) -> str:
    """States are random: their first characters spread them over many partitions."""
    return state[:2]


class AuditRepository(TableRepository[AuditEntry]):
    """Row keys sort newest first (see services/audit.py)."""

    table_name = "auditlog"
    model = AuditEntry

    def keys(self, item: AuditEntry) -> tuple[str, str]:
        return item.tenant_id, item.id


class MeetingLinkRepository(TableRepository[MeetingLink]):
    table_name = "meetinglinks"
    model = MeetingLink

    def keys(self, item: MeetingLink) -> tuple[str, str]:
        return item.endpoint_id, item.appointment_key


class AppointmentRepository(TableRepository[Appointment]):
    table_name = "appointments"
    model = Appointment

    def keys(self, item: Appointment) -> tuple[str, str]:
        return item.endpoint_id, item.appointment_key


class SigningCertificateRepository(TableRepository[SigningCertificate]):
    table_name = "certificates"
    model = SigningCertificate

    def keys(self, item: SigningCertificate) -> tuple[str, str]:
        return item.tenant_id, item.environment


class ReminderIndexRepository(TableRepository[ReminderDue]):
    table_name = "reminderindex"
    model = ReminderDue

    def keys(self, item: ReminderDue) -> tuple[str, str]:
        return item.minute, f"{item.endpoint_id}|{item.appointment_key}"


class SmsSettingsRepository(TableRepository[SmsSettings]):
    table_name = "smssettings"
    model = SmsSettings

    def keys(self, item: SmsSettings) -> tuple[str, str]:
        return item.tenant_id, item.endpoint_id


class ConsentRepository(TableRepository[Consent]):
    table_name = "consents"
    model = Consent

    def keys(self, item: Consent) -> tuple[str, str]:
        return item.tenant_id, item.name


class SmsMessageRepository(TableRepository[SmsMessageStatus]):
    table_name = "smsmessages"
    model = SmsMessageStatus

    def keys(self, item: SmsMessageStatus) -> tuple[str, str]:
        return item.endpoint_id, item.id


class OptOutRepository(TableRepository[OptOut]):
    table_name = "optouts"
    model = OptOut

    def keys(self, item: OptOut) -> tuple[str, str]:
        return item.sender, item.number_hash


class OutboxRepository(TableRepository[OutboxMessage]):
    table_name = "smsoutbox"
    model = OutboxMessage

    def keys(self, item: OutboxMessage) -> tuple[str, str]:
        return item.tenant_id, item.id


class ReminderCursorRepository(TableRepository[ReminderCursor]):
    table_name = "remindercursor"
    model = ReminderCursor

    def keys(self, item: ReminderCursor) -> tuple[str, str]:
        return "cursor", item.geography


class PhoneNumberRepository(TableRepository[PhoneNumber]):
    table_name = "phonenumbers"
    model = PhoneNumber

    def keys(self, item: PhoneNumber) -> tuple[str, str]:
        return item.tenant_id, item.number


class PhoneNumberJobRepository(TableRepository[PhoneNumberJob]):
    table_name = "phonenumberjobs"
    model = PhoneNumberJob

    def keys(self, item: PhoneNumberJob) -> tuple[str, str]:
        return item.tenant_id, item.id


class MeetingSubscriptionRepository(TableRepository[MeetingSubscription]):
    """One partition: a notification names only its subscription."""

    table_name = "meetingsubscriptions"
    model = MeetingSubscription

    def keys(self, item: MeetingSubscription) -> tuple[str, str]:
        return "subscriptions", item.id


class VisitEventRepository(TableRepository[VisitEvent]):
    """A visit's events in one partition (data plane)."""

    table_name = "visitevents"
    model = VisitEvent

    def keys(self, item: VisitEvent) -> tuple[str, str]:
        return item.appointment_key, item.id


class WritebackSettingsRepository(TableRepository[WritebackSettings]):
    table_name = "writebacksettings"
    model = WritebackSettings

    def keys(self, item: WritebackSettings) -> tuple[str, str]:
        return item.tenant_id, item.endpoint_id


class WritebackFailureRepository(TableRepository[WritebackFailure]):
    """Failed writebacks of an organisation, by event ID (data plane)."""

    table_name = "writebackfailures"
    model = WritebackFailure

    def keys(self, item: WritebackFailure) -> tuple[str, str]:
        return item.tenant_id, item.id


class VisitSummaryRepository(TableRepository[VisitSummary]):
    """Row keys start with the visit's UTC day, so a report reads one key range (data plane)."""

    table_name = "visitsummaries"
    model = VisitSummary

    def keys(self, item: VisitSummary) -> tuple[str, str]:
        return item.tenant_id, f"{item.day}|{item.appointment_key}"
