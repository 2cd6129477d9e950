"""The writeback feature's services: the connector's backend client to EHRs, the adapters that write connects
and disconnects, the meeting event subscriptions and the participant events they bring."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from shared.platform import Platform
from shared.setup.models import Organisation
from shared.setup.wiring import SetupServices
from shared.smart.backend import BackendServices, SigningKeys
from shared.visits.models import MeetingLink
from shared.visits.wiring import VisitServices
from shared.writeback.call_records import CallRecords, CallRecordSource
from shared.writeback.delivery import EhrWriteback
from shared.writeback.ehr import WritebackAdapter
from shared.writeback.ehr.client import EhrClient
from shared.writeback.failures import WritebackFailures
from shared.writeback.meeting_events import MeetingEvents
from shared.writeback.participant_events import ParticipantEvents
from shared.writeback.setup import WritebackSetup
from shared.writeback.subscriptions import MeetingSubscriptions

if TYPE_CHECKING:
    from shared.writeback.confirmations import ConfirmationWriteback


@dataclass(eq=False)
class WritebackServices:
    platform: Platform
    setup: SetupServices
    visits: VisitServices
    client: EhrClient | None = None
    """An EHR client to use instead of the default one (tests hand in one whose backoff sleeps are recorded)."""
    call_ended: Callable[[Organisation, str, str], object] | None = None
    """A visit's call ended with a patient in it: post-visit surveys (messaging, handed in by the runtime)."""

    @property
    def signing_keys(self) -> SigningKeys:
        return self.platform.signing_keys

    @property
    def backend_services(self) -> BackendServices:
        return self.platform.backend_services

    @cached_property
    def ehr_client(self) -> EhrClient:
        return self.client or EhrClient(self.platform.outbound, self.backend_services)

    @cached_property
    def delivery(self) -> EhrWriteback:
        from shared.writeback.ehr.epic import EpicConnectionStatus
        from shared.writeback.ehr.fhir import FhirWriteback

        adapters: dict[str, WritebackAdapter] = {
            "epic": EpicConnectionStatus(self.ehr_client),
            "fhir": FhirWriteback(self.ehr_client),
        }
        return EhrWriteback(tables=self.platform.tables, adapters=adapters, clock=self.platform.clock)

    @cached_property
    def confirmations(self) -> ConfirmationWriteback:
        from shared.writeback.confirmations import ConfirmationWriteback
        from shared.writeback.ehr.fhir import FhirWriteback

        return ConfirmationWriteback(
            tables=self.platform.tables, writeback=self.delivery, fhir=FhirWriteback(self.ehr_client)
        )

    @cached_property
    def failures(self) -> WritebackFailures:
        return WritebackFailures(
            tables=self.platform.tables,
            queues=self.platform.geography_queues,
            audit=self.setup.audit,
            clock=self.platform.clock,
        )

    @cached_property
    def writeback_setup(self) -> WritebackSetup:
        return WritebackSetup(
            tables=self.platform.tables,
            endpoints=self.setup.endpoints,
            writeback=self.delivery,
            audit=self.setup.audit,
            clock=self.platform.clock,
            keys=self.signing_keys,
            backend=self.backend_services,
            allow_http=self.platform.allow_http,
        )

    @cached_property
    def participant_events(self) -> ParticipantEvents:
        return ParticipantEvents(
            tables=self.platform.tables,
            clock=self.platform.clock,
            writeback=self.delivery,
            failures=self.failures,
            on_first_event=self.call_records.remember,
            on_call_ended=self.call_ended,
        )

    @cached_property
    def meeting_events(self) -> MeetingEvents:
        return MeetingEvents(
            tables=self.platform.tables, queues=self.platform.geography_queues, clock=self.platform.clock
        )

    @cached_property
    def subscriptions(self) -> MeetingSubscriptions:
        return MeetingSubscriptions(
            tables=self.platform.tables,
            meetings=self.visits.meetings,
            clock=self.platform.clock,
            notification_url=f"{self.platform.public_base}/api/events/meetings",
            geographies=self.platform.settings.storage.enabled_geographies,
        )

    @cached_property
    def call_records(self) -> CallRecords:
        from shared.visits.providers.graph import GraphMeetingProvider
        from shared.visits.providers.graph_records import GraphCallRecords
        from shared.visits.providers.local import LocalMeetingProvider

        meetings = self.visits.meetings
        source: CallRecordSource | None = None
        if isinstance(meetings, GraphMeetingProvider):
            source = GraphCallRecords(meetings)
        elif isinstance(meetings, LocalMeetingProvider):
            source = meetings  # the dev meeting page's records
        return CallRecords(
            tables=self.platform.tables,
            queues=self.platform.queues,
            clock=self.platform.clock,
            source=source,
            notification_url=f"{self.platform.public_base}/api/events/callrecords",
            geographies=self.platform.settings.storage.enabled_geographies,
        )

    def meeting_created(self, organisation: Organisation, link: MeetingLink, ends_at: datetime) -> None:
        """A visit's new meeting: subscribe to its call events (and, once per worker now and then, check the call
        records subscription), and tell the EHR of a confirmation the patient sent before."""
        self.call_records.ensure_soon()
        self.subscriptions.subscribe(organisation, link, ends_at)
        self.confirmations.meeting_created(organisation.tenant_id, link)  # a patient's earlier "C" reaches the EHR now
