"""The visits feature's services, built from the platform's clients and the configured meeting provider.

Writeback sits above visits, so what visits needs from it comes in as two callables: whether an endpoint
writes back (launches then keep the EHR's visit identifiers), and what to do when a meeting is created
(subscribe to its call events)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from shared.platform import Platform
from shared.setup.models import Organisation
from shared.setup.wiring import SetupServices
from shared.visits.clinicians import ClinicianLinks
from shared.visits.delegated_grants import DelegatedGrants
from shared.visits.invites import VisitInvites
from shared.visits.join_links import JoinLinks, SentToMeeting
from shared.visits.late import RunningLate
from shared.visits.launch import LaunchService
from shared.visits.launch_problems import LaunchProblems
from shared.visits.meetings import VisitMeetings
from shared.visits.microsoft_sign_in import SECRET_NAME, MicrosoftSignIn
from shared.visits.models import Appointment, MeetingLink, VisitInvite
from shared.visits.providers import MeetingProvider
from shared.visits.sessions import VisitSessions
from shared.visits.virtual_appointments import VirtualAppointments


def meeting_provider(platform: Platform) -> MeetingProvider:
    """The meeting service MEETING_PROVIDER names."""
    settings = platform.settings.visits
    if settings.meeting_provider == "local":
        from shared.visits.providers.local import LocalMeetingProvider

        return LocalMeetingProvider(platform.public_base)
    from shared.visits.providers.graph import GraphMeetingProvider

    return GraphMeetingProvider(platform.credential(), base_url=settings.graph_base_url, outbound=platform.outbound)


@dataclass(eq=False)
class VisitServices:
    platform: Platform
    setup: SetupServices
    writes_back: Callable[[str, str], bool]
    on_meeting_created: Callable[[Organisation, MeetingLink, datetime], object]
    on_patient_sent: SentToMeeting
    on_meeting_named: Callable[[str, MeetingLink], object]
    """A launch named the EHR's Appointment of a meeting made before (tenant, mapping)."""
    """The connector sent someone to a visit's meeting (organisation, endpoint ID, meeting key, role, whose)."""
    text_invite: Callable[[Organisation, VisitInvite], str | None]
    """Queue an invite's text (asked of the messaging feature); why it cannot go, or None."""
    text_late: Callable[[Organisation, Appointment, int, datetime], str | None]
    """Queue a patient's late notice (asked of the messaging feature); why it cannot go, or None."""
    provider: MeetingProvider | None = None
    """A meeting provider to use instead of the configured one (tests hand in the Graph stub's)."""
    sign_in: MicrosoftSignIn | None = None
    """A clinician sign-in to use instead of the configured one (tests hand in one at the Entra stub)."""

    @cached_property
    def meetings(self) -> MeetingProvider:
        return self.provider or meeting_provider(self.platform)

    @cached_property
    def join_links(self) -> JoinLinks:
        settings = self.platform.settings.visits
        return JoinLinks(
            secrets=self.platform.secrets,
            clock=self.platform.clock,
            public_base=self.platform.public_base,
            opens_before=timedelta(minutes=settings.join_link_opens_minutes),
            closes_after=timedelta(minutes=settings.join_link_closes_minutes),
        )

    @cached_property
    def sessions(self) -> VisitSessions:
        return VisitSessions(secrets=self.platform.secrets, clock=self.platform.clock)

    @cached_property
    def microsoft_sign_in(self) -> MicrosoftSignIn | None:
        """The clinicians' Microsoft 365 sign-in, when the connector has an app registration for it."""
        if self.sign_in is not None:
            return self.sign_in
        platform = self.platform
        client_id = platform.settings.visits.clinician_sign_in_client_id
        if client_id is None:
            return None
        secrets = platform.secrets
        return MicrosoftSignIn(
            client_id=client_id,
            authority=platform.settings.sign_in.entra_authority,
            client_secret=lambda: secrets.get(SECRET_NAME),
            redirect_uri=f"{platform.public_base}/api/launch/microsoft",
            jwks=platform.jwks,
            outbound=platform.outbound,
            clock=platform.clock,
        )

    @cached_property
    def clinicians(self) -> ClinicianLinks:
        return ClinicianLinks(
            tables=self.platform.tables,
            states=self.platform.launch_states,
            sign_in=self.microsoft_sign_in,
            audit=self.setup.audit,
            clock=self.platform.clock,
            lookups=self.setup.lookups,
            grants=self.delegated_grants,
        )

    @cached_property
    def delegated_grants(self) -> DelegatedGrants:
        return DelegatedGrants(secrets=self.platform.secrets)

    @cached_property
    def virtual_appointments(self) -> VirtualAppointments:
        return VirtualAppointments(
            sign_in=self.microsoft_sign_in,
            grants=self.delegated_grants,
            meetings=self.meetings,
            lookups=self.setup.lookups,
        )

    @cached_property
    def visit_meetings(self) -> VisitMeetings:
        """One meeting per visit: the launches', the join links' and the clinician's panel."""
        return VisitMeetings(
            tables=self.platform.tables,
            meetings=self.meetings,
            clock=self.platform.clock,
            visit_length=timedelta(minutes=self.platform.settings.visits.visit_length_minutes),
            service_organizer=self.platform.settings.visits.meeting_organizer_id or "local-organizer",
            linked_organizer=self.clinicians.organizer,
            on_created=self.on_meeting_created,
            on_named=self.on_meeting_named,
            virtual_appointment=self.virtual_appointments.join_url,
        )

    @cached_property
    def launch(self) -> LaunchService:
        platform = self.platform
        return LaunchService(
            tables=platform.tables,
            states=platform.launch_states,
            discovery=platform.discovery,
            smart=platform.smart,
            visits=self.visit_meetings,
            join_links=self.join_links,
            sessions=self.sessions,
            clock=platform.clock,
            public_base=platform.public_base,
            allow_http=platform.allow_http,
            clinicians=self.clinicians,
            writes_back=self.writes_back,
            patient_sent=self.on_patient_sent,
            lookups=self.setup.lookups,
            problems=self.launch_problems,
        )

    @cached_property
    def launch_problems(self) -> LaunchProblems:
        return LaunchProblems(tables=self.platform.tables, clock=self.platform.clock)

    @cached_property
    def invites(self) -> VisitInvites:
        return VisitInvites(
            tables=self.platform.tables,
            join_links=self.join_links,
            audit=self.setup.audit,
            clock=self.platform.clock,
            visit_length=timedelta(minutes=self.platform.settings.visits.visit_length_minutes),
            phone_region=lambda organisation: organisation.sms_country,
            text=self.text_invite,
        )

    @cached_property
    def running_late(self) -> RunningLate:
        return RunningLate(
            tables=self.platform.tables, audit=self.setup.audit, clock=self.platform.clock, text=self.text_late
        )
