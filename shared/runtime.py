"""The per-worker set of long-lived clients, built from the settings on first use (never per request).

Triggers call `get_runtime()` and hand what they need to a service.
"""

from __future__ import annotations

import os
from datetime import timedelta
from functools import cached_property, lru_cache

from shared import __version__
from shared.auth.tokens import PortalAuthenticator
from shared.clock import Clock, SystemClock
from shared.ehr import WritebackAdapter
from shared.ehr.client import EhrClient
from shared.identity import ManagedIdentity
from shared.jwt_verify import JwksCache
from shared.meetings import MeetingProvider
from shared.outbound import Outbound
from shared.secrets import CachedSecretStore, SecretStore
from shared.services.approval import ApprovalService
from shared.services.audit import AuditLog
from shared.services.certificates import CertificateService
from shared.services.endpoints import EndpointService
from shared.services.health import HealthService
from shared.services.hl7_ingest import Hl7Ingest
from shared.services.integration_records import IntegrationRecordService
from shared.services.join_links import JoinLinks
from shared.services.launch import LaunchService
from shared.services.launch_states import LaunchStates
from shared.services.meeting_events import MeetingEvents
from shared.services.meeting_subscriptions import MeetingSubscriptions
from shared.services.organisations import OrganisationService
from shared.services.participant_events import ParticipantEvents
from shared.services.phone_numbers import PhoneNumberService
from shared.services.reminders import PhoneRetention, ReminderService
from shared.services.reports import Reports
from shared.services.scheduling import AppointmentProcessor
from shared.services.sms import SmsService, SmsSetup
from shared.services.sms_events import SmsEvents
from shared.services.visit_sessions import VisitSessions
from shared.services.visits import VisitMeetings
from shared.services.writeback import EhrWriteback, WritebackFailures, WritebackSetup
from shared.settings import Settings, get_settings
from shared.smart.backend import BackendServices, SigningKeys
from shared.smart.client import SmartClient
from shared.smart.discovery import SmartDiscovery
from shared.sms import SmsSender
from shared.sms.numbers import PhoneNumberProvider
from shared.storage.accounts import StorageAccounts
from shared.storage.queues import QueueSender
from shared.storage.routing import Tables
from shared.storage.tables import (
    AuditRepository,
    EndpointUrlRepository,
    FhirEndpointRepository,
    LaunchStateRepository,
    OrganisationRepository,
    OutboxRepository,
    SigningCertificateRepository,
)


class Runtime:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.credential = ManagedIdentity(settings.azure_client_id)

    @cached_property
    def storage(self) -> StorageAccounts:
        return StorageAccounts(self.settings, self.credential)

    @cached_property
    def tables(self) -> Tables:
        return Tables(self.storage, self.settings.table_prefix)

    @cached_property
    def queues(self) -> QueueSender:
        return QueueSender(self.storage.app)

    @cached_property
    def secrets(self) -> SecretStore:
        store: SecretStore
        if self.settings.secrets_provider == "env":
            from shared.secrets.env import EnvSecretStore

            store = EnvSecretStore(os.environ)
        else:
            from shared.secrets.keyvault import KeyVaultSecretStore

            store = KeyVaultSecretStore.connect(self.settings.key_vault_url or "", self.credential())
        return CachedSecretStore(store, timedelta(seconds=self.settings.secret_cache_seconds), self.clock)

    @cached_property
    def outbound(self) -> Outbound:
        return Outbound(self.settings.http_timeout_seconds)

    @cached_property
    def jwks(self) -> JwksCache:
        return JwksCache(self.outbound, self.clock, timedelta(seconds=self.settings.smart_cache_seconds))

    @cached_property
    def discovery(self) -> SmartDiscovery:
        return SmartDiscovery(self.outbound, self.clock, timedelta(seconds=self.settings.smart_cache_seconds))

    @cached_property
    def smart(self) -> SmartClient:
        return SmartClient(self.outbound, self.jwks, self.clock)

    @cached_property
    def signing_keys(self) -> SigningKeys:
        return SigningKeys(self.secrets)

    @property
    def jwks_url(self) -> str:
        return f"{self.settings.public_base}/api/.well-known/jwks.json"

    @cached_property
    def backend_services(self) -> BackendServices:
        return BackendServices(self.outbound, self.signing_keys, self.clock, self.jwks_url)

    @cached_property
    def ehr_client(self) -> EhrClient:
        return EhrClient(self.outbound, self.backend_services)

    @cached_property
    def ehr_writeback(self) -> EhrWriteback:
        from shared.ehr.epic import EpicConnectionStatus
        from shared.ehr.fhir import FhirWriteback

        adapters: dict[str, WritebackAdapter] = {
            "epic": EpicConnectionStatus(self.ehr_client),
            "fhir": FhirWriteback(self.ehr_client),
        }
        return EhrWriteback(self.tables, adapters, self.clock)

    @cached_property
    def writeback_failures(self) -> WritebackFailures:
        return WritebackFailures(self.tables, self.queues, self.audit, self.clock)

    @cached_property
    def writeback_setup(self) -> WritebackSetup:
        return WritebackSetup(
            self.tables,
            self.endpoints,
            self.ehr_writeback,
            self.audit,
            self.clock,
            self.jwks_url,
            allow_http=self.settings.environment == "local",
        )

    @cached_property
    def reports(self) -> Reports:
        return Reports(self.tables, self.clock, self.settings.meeting_provider)

    @cached_property
    def visit_sessions(self) -> VisitSessions:
        return VisitSessions(self.secrets, self.clock)

    @cached_property
    def portal_auth(self) -> PortalAuthenticator:
        return PortalAuthenticator(
            audience=self.settings.portal_api_audience,
            entra_authority=self.settings.entra_authority,
            environment=self.settings.environment,
            jwks=self.jwks,
            clock=self.clock,
            local_issuer=self.settings.local_issuer_url,
            allowed_tenants=self.settings.allowed_tenants,
        )

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.tables.control(AuditRepository), self.clock)

    @cached_property
    def organisations(self) -> OrganisationService:
        return OrganisationService(
            self.tables.control(OrganisationRepository), self.audit, self.clock, self.settings.enabled_geographies
        )

    @cached_property
    def endpoints(self) -> EndpointService:
        return EndpointService(
            endpoints=self.tables.control(FhirEndpointRepository),
            urls=self.tables.control(EndpointUrlRepository),
            organisations=self.tables.control(OrganisationRepository),
            discovery=self.discovery,
            audit=self.audit,
            clock=self.clock,
            allow_http=self.settings.environment == "local",
        )

    @cached_property
    def launch_states(self) -> LaunchStates:
        return LaunchStates(self.tables.control(LaunchStateRepository), self.clock)

    @cached_property
    def approval(self) -> ApprovalService:
        return ApprovalService(
            endpoints=self.endpoints,
            endpoint_rows=self.tables.control(FhirEndpointRepository),
            states=self.launch_states,
            discovery=self.discovery,
            smart=self.smart,
            audit=self.audit,
            clock=self.clock,
            redirect_uri=f"{self.settings.public_base}/api/portal/approval/callback",
        )

    @cached_property
    def integration_records(self) -> IntegrationRecordService:
        return IntegrationRecordService(self.endpoints, self.settings.public_base)

    @cached_property
    def meetings(self) -> MeetingProvider:
        if self.settings.meeting_provider == "local":
            from shared.meetings.local import LocalMeetingProvider

            return LocalMeetingProvider(self.settings.public_base)
        from shared.meetings.graph import GraphMeetingProvider

        return GraphMeetingProvider(self.credential(), base_url=self.settings.graph_base_url, outbound=self.outbound)

    @cached_property
    def join_links(self) -> JoinLinks:
        return JoinLinks(
            self.secrets,
            self.clock,
            self.settings.public_base,
            opens_before=timedelta(minutes=self.settings.join_link_opens_minutes),
            closes_after=timedelta(minutes=self.settings.join_link_closes_minutes),
        )

    @cached_property
    def launch(self) -> LaunchService:
        visits = VisitMeetings(
            self.tables,
            self.meetings,
            self.clock,
            timedelta(minutes=self.settings.visit_length_minutes),
            self.meeting_subscriptions,
        )
        return LaunchService(
            tables=self.tables,
            states=self.launch_states,
            discovery=self.discovery,
            smart=self.smart,
            visits=visits,
            join_links=self.join_links,
            sessions=self.visit_sessions,
            clock=self.clock,
            public_base=self.settings.public_base,
            allow_http=self.settings.environment == "local",
            service_organizer=self.settings.meeting_organizer_id or "local-organizer",
        )

    @cached_property
    def certificates(self) -> CertificateService:
        return CertificateService(self.tables.control(SigningCertificateRepository), self.audit, self.clock)

    @cached_property
    def hl7_ingest(self) -> Hl7Ingest:
        return Hl7Ingest(
            endpoints=self.tables.control(FhirEndpointRepository),
            certificates=self.certificates,
            queues=self.queues,
            clock=self.clock,
            max_age=timedelta(hours=self.settings.hl7_max_age_hours),
        )

    @cached_property
    def sms_sender(self) -> SmsSender:
        if self.settings.sms_provider == "outbox":
            from shared.sms.outbox import OutboxSmsSender

            return OutboxSmsSender(self.tables.control(OutboxRepository), self.clock)
        import time

        from shared.sms.acs import AcsSmsSender, TokenBucket

        bucket = TokenBucket(self.settings.sms_rate_per_minute, burst=10, clock=self.clock, sleep=time.sleep)
        return AcsSmsSender.connect(self.settings.acs_endpoint or "", self.credential(), bucket)

    @cached_property
    def sms_setup(self) -> SmsSetup:
        return SmsSetup(self.tables, self.endpoints, self.audit, self.queues, self.clock)

    @cached_property
    def phone_number_provider(self) -> PhoneNumberProvider:
        if self.settings.sms_provider == "outbox":
            from shared.sms.numbers import LocalPhoneNumbers

            return LocalPhoneNumbers()
        from shared.sms.acs_numbers import AcsPhoneNumbers

        return AcsPhoneNumbers.connect(self.settings.acs_endpoint or "", self.credential())

    @cached_property
    def phone_numbers(self) -> PhoneNumberService:
        poll = self.settings.phone_number_poll_seconds
        return PhoneNumberService(
            tables=self.tables,
            provider=self.phone_number_provider,
            queues=self.queues,
            setup=self.sms_setup,
            endpoints=self.endpoints,
            audit=self.audit,
            clock=self.clock,
            poll_seconds=poll,
            max_polls=max(180, 1800 // max(poll, 1)),  # at least half an hour
        )

    @cached_property
    def sms(self) -> SmsService:
        return SmsService(
            tables=self.tables,
            setup=self.sms_setup,
            sender=self.sms_sender,
            join_links=self.join_links,
            secrets=self.secrets,
            clock=self.clock,
        )

    @cached_property
    def meeting_subscriptions(self) -> MeetingSubscriptions:
        return MeetingSubscriptions(
            tables=self.tables,
            meetings=self.meetings,
            clock=self.clock,
            notification_url=f"{self.settings.public_base}/api/events/meetings",
        )

    @cached_property
    def participant_events(self) -> ParticipantEvents:
        return ParticipantEvents(self.tables, self.clock, self.ehr_writeback, self.writeback_failures)

    @cached_property
    def meeting_events(self) -> MeetingEvents:
        return MeetingEvents(self.tables, self.queues, self.clock)

    @cached_property
    def sms_events(self) -> SmsEvents:
        return SmsEvents(self.tables, self.sms, self.phone_numbers, self.clock)

    @cached_property
    def appointments(self) -> AppointmentProcessor:
        return AppointmentProcessor(tables=self.tables, sms=self.sms, clock=self.clock)

    @cached_property
    def reminders(self) -> ReminderService:
        return ReminderService(
            tables=self.tables,
            sms=self.sms,
            clock=self.clock,
            max_late=timedelta(minutes=self.settings.reminder_max_late_minutes),
        )

    @cached_property
    def phone_retention(self) -> PhoneRetention:
        return PhoneRetention(self.tables, self.clock)

    @cached_property
    def health(self) -> HealthService:
        return HealthService(
            self.storage.all(), __version__, self.settings.environment, self.settings.storage_timeout_seconds
        )


@lru_cache(maxsize=1)
def get_runtime() -> Runtime:
    return Runtime(get_settings())
