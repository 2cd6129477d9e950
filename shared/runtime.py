"""The per-worker set of long-lived clients, built from the settings on first use (never per request).

Triggers call `get_runtime()` and hand what they need to a service.
"""

from __future__ import annotations

import os
from datetime import timedelta
from functools import cached_property, lru_cache

from shared import __version__
from shared.auth.tokens import PortalAuthenticator
from shared.core.clock import Clock, SystemClock
from shared.core.identity import ManagedIdentity
from shared.core.jwt_verify import JwksCache
from shared.core.outbound import Outbound
from shared.core.settings import Settings, get_settings
from shared.health import HealthService
from shared.messaging.delivery import SmsEvents
from shared.messaging.phone_numbers import PhoneNumberService
from shared.messaging.providers import SmsSender
from shared.messaging.providers.numbers import PhoneNumberProvider
from shared.messaging.sms_setup import SmsSetup
from shared.messaging.tables import OutboxRepository
from shared.messaging.texts import SmsService
from shared.reports.reports import Reports
from shared.scheduling.appointments import AppointmentProcessor
from shared.scheduling.ingest import Hl7Ingest
from shared.scheduling.reminders import ReminderService
from shared.scheduling.retention import PhoneRetention
from shared.secrets import CachedSecretStore, SecretStore
from shared.setup.approval import ApprovalService
from shared.setup.audit import AuditLog
from shared.setup.certificates import CertificateService
from shared.setup.endpoints import EndpointService
from shared.setup.integration_records import IntegrationRecordService
from shared.setup.organisations import OrganisationService
from shared.setup.tables import (
    AuditRepository,
    EndpointUrlRepository,
    FhirEndpointRepository,
    OrganisationRepository,
    SigningCertificateRepository,
)
from shared.smart.backend import BackendServices, SigningKeys
from shared.smart.client import SmartClient
from shared.smart.discovery import SmartDiscovery
from shared.smart.states import LaunchStateRepository, LaunchStates
from shared.storage.accounts import StorageAccounts
from shared.storage.queues import QueueSender
from shared.storage.routing import Tables
from shared.visits.join_links import JoinLinks
from shared.visits.launch import LaunchService
from shared.visits.meetings import VisitMeetings
from shared.visits.providers import MeetingProvider
from shared.visits.sessions import VisitSessions
from shared.writeback.delivery import EhrWriteback
from shared.writeback.ehr import WritebackAdapter
from shared.writeback.ehr.client import EhrClient
from shared.writeback.failures import WritebackFailures
from shared.writeback.meeting_events import MeetingEvents
from shared.writeback.participant_events import ParticipantEvents
from shared.writeback.setup import WritebackSetup
from shared.writeback.subscriptions import MeetingSubscriptions


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
        from shared.writeback.ehr.epic import EpicConnectionStatus
        from shared.writeback.ehr.fhir import FhirWriteback

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
            from shared.visits.providers.local import LocalMeetingProvider

            return LocalMeetingProvider(self.settings.public_base)
        from shared.visits.providers.graph import GraphMeetingProvider

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
            from shared.messaging.providers.outbox import OutboxSmsSender

            return OutboxSmsSender(self.tables.control(OutboxRepository), self.clock)
        import time

        from shared.messaging.providers.acs import AcsSmsSender, TokenBucket

        bucket = TokenBucket(self.settings.sms_rate_per_minute, burst=10, clock=self.clock, sleep=time.sleep)
        return AcsSmsSender.connect(self.settings.acs_endpoint or "", self.credential(), bucket)

    @cached_property
    def sms_setup(self) -> SmsSetup:
        return SmsSetup(self.tables, self.endpoints, self.audit, self.queues, self.clock)

    @cached_property
    def phone_number_provider(self) -> PhoneNumberProvider:
        if self.settings.sms_provider == "outbox":
            from shared.messaging.providers.numbers import LocalPhoneNumbers

            return LocalPhoneNumbers()
        from shared.messaging.providers.acs_numbers import AcsPhoneNumbers

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
