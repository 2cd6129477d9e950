"""SMART EHR launch for clinicians (provider record) and patients (patient-portal record), and SMS join links.

start:    iss must be an approved FHIR endpoint (checked before any outbound request) -> discovery (cached) ->
          authorize (PKCE S256, single-use state, nonce, aud = iss, the EHR's launch value passed through)
complete: state (once) -> token exchange -> id_token -> who the user is, by the EHR's word (roles.py; a provider
          launch by anyone the EHR does not vouch for as a clinician is refused) -> visit reference from the token
          response only (context.py) -> appointment key -> meeting -> the clinician's or the patient's join URL
join:     signed link -> window and cancellation -> meeting -> the patients' join URL (and the meeting's dial-in)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from shared.core import telemetry
from shared.core.clock import Clock
from shared.core.errors import DomainError, InvalidInput
from shared.core.i18n import N_
from shared.setup.endpoints import normalise_base_url
from shared.setup.lookups import ControlLookups
from shared.setup.models import EndpointStatus, FhirEndpoint, Organisation
from shared.setup.tables import EndpointUrlRepository, FhirEndpointRepository
from shared.smart.client import AuthorizeRedirect, AuthorizeRequest, SmartClient
from shared.smart.discovery import SmartDiscovery
from shared.smart.pkce import challenge
from shared.smart.states import LaunchState, LaunchStates, Purpose, StateRejected
from shared.storage.routing import Tables
from shared.visits.clinicians import ClinicianLinks
from shared.visits.context import ContextMismatch, cross_check, visit_reference, visit_references
from shared.visits.dial_in import Joined, dial_in_offer
from shared.visits.join_links import JoinLinkRefused, JoinLinks, SentToMeeting
from shared.visits.launch_problems import LaunchProblems
from shared.visits.meetings import VisitMeetings
from shared.visits.models import VisitReferences, appointment_key
from shared.visits.refusals import SIGN_IN_UNVERIFIED, LaunchRefused, authorize_error, not_a_clinician
from shared.visits.roles import launch_role
from shared.visits.sessions import VisitSessions
from shared.visits.tables import AppointmentRepository

log = logging.getLogger(__name__)
LaunchKind = Literal["provider", "patient"]
LAUNCH_SCOPE = "launch openid fhirUser"
RECORD_PARAMETERS = {"sessionId": "session_id", "conferenceId": "conference_id", "departmentId": "department_id"}


@dataclass(frozen=True)
class LaunchResult:
    """Where the browser goes next; for a clinician, also the visit session that shows who is connected."""

    url: str
    appointment_key: str
    visit_session: str | None = None
    sign_in: AuthorizeRedirect | None = None
    """The clinician's Microsoft 365 sign-in, which comes first (then `url` is empty)."""


@dataclass(kw_only=True, eq=False)
class LaunchService:
    tables: Tables
    states: LaunchStates
    discovery: SmartDiscovery
    smart: SmartClient
    visits: VisitMeetings
    join_links: JoinLinks
    sessions: VisitSessions
    clock: Clock
    public_base: str
    allow_http: bool
    writes_back: Callable[[str, str], bool]
    """Whether an organisation's endpoint writes back to its EHR (asked of the writeback feature)."""
    patient_sent: SentToMeeting
    """Record who was sent to the meeting (a patient, or a guest's link): lobby estimates and who is who."""
    clinicians: ClinicianLinks
    problems: LaunchProblems
    lookups: ControlLookups
    """Organisations and endpoints from the per-worker cache: a suspended or removed endpoint stops launching
    within a minute, as it stops taking HL7 messages and sending texts."""

    def __post_init__(self) -> None:
        self._redirect_uri = f"{self.public_base.rstrip('/')}/api/launch/callback"

    def _approved_endpoint(self, iss: str) -> tuple[Organisation, FhirEndpoint]:
        not_connected = LaunchRefused(
            "This EHR is not connected to the virtual visit service yet. Ask your EHR administrator to finish the "
            "connector's configuration and approval.",
            status=403,
        )
        try:
            base_url = normalise_base_url(iss, allow_http=self.allow_http)
        except InvalidInput:
            raise not_connected from None
        endpoint = self.lookups.url_holder(base_url)  # its owner's, even while it waits for a new approval
        if endpoint is None:  # approved before URLs had owners: the first organisation that approved it
            endpoints = self.tables.control(FhirEndpointRepository)
            approved = [
                endpoint
                for owner in self.tables.control(EndpointUrlRepository).iterate(base_url)
                if (endpoint := endpoints.find(owner.tenant_id, owner.endpoint_id)) is not None
                and endpoint.status == EndpointStatus.APPROVED
            ]
            if not approved:
                raise not_connected
            endpoint = min(approved, key=lambda e: (e.decided_at or e.updated_at, e.tenant_id))
        organisation = self.lookups.organisation(endpoint.tenant_id)
        if organisation is None or endpoint.status != EndpointStatus.APPROVED:
            raise not_connected
        return organisation, endpoint

    def start(
        self, kind: LaunchKind, *, iss: str | None, launch: str | None, record: dict[str, str]
    ) -> AuthorizeRedirect:
        if not iss or not launch:
            raise LaunchRefused(
                "Start the virtual visit from the EHR: this address needs the EHR's launch details (iss and launch)."
            )
        organisation, endpoint = self._approved_endpoint(iss)
        telemetry.bind(tenant_id=organisation.tenant_id, endpoint_id=endpoint.id)
        configuration = self.discovery.discover(endpoint.base_url, endpoint.client_id)
        browser = self.states.new_browser_secret()
        launch_state = self.states.begin(
            kind,
            browser=browser,
            tenant_id=organisation.tenant_id,
            endpoint_id=endpoint.id,
            redirect_uri=self._redirect_uri,
            record={name: value[:200] for name, value in record.items() if value},
        )
        request = AuthorizeRequest(
            client_id=endpoint.client_id,
            redirect_uri=self._redirect_uri,
            scope=LAUNCH_SCOPE,
            state=launch_state.state,
            aud=endpoint.base_url,
            code_challenge=challenge(launch_state.verifier),
            nonce=launch_state.nonce,
            launch=launch,  # opaque, passed through whole (Epic's can be a long JWT)
        )
        return request.redirect(configuration, browser)

    def _consume(self, state: str | None, browser: str | None, purpose: str = "launch") -> LaunchState:
        again = "Close this window and select \u201cBegin virtual visit\u201d in the EHR again."
        if not state:
            raise LaunchRefused(f"The sign-in's answer is missing its state. {again}")
        try:
            purposes: set[Purpose] = {"clinician"} if purpose == "clinician" else {"provider", "patient"}
            return self.states.consume(state, purposes, browser)
        except StateRejected as rejected:
            if rejected.reason == "expired":
                raise LaunchRefused(f"Starting the visit took too long. {again}") from None
            if rejected.reason == "browser":
                raise LaunchRefused(f"This visit was started in another browser. {again}") from None
            raise LaunchRefused(f"This visit link was already used or is not valid. {again}") from None

    def complete(
        self,
        *,
        state: str | None,
        code: str | None,
        error: str | None,
        browser: str | None,
        error_description: str | None = None,
    ) -> LaunchResult:
        """`browser`: the secret of the browser's state cookie (a callback in another browser is refused)."""
        launch = self._consume(state, browser)
        telemetry.bind(tenant_id=launch.tenant_id, endpoint_id=launch.endpoint_id)
        if error:
            raise LaunchRefused(authorize_error(error, error_description))
        if not code:
            raise LaunchRefused(
                "The EHR sent no sign-in code. Select \u201cBegin virtual visit\u201d in the EHR again."
            )
        endpoint = self.lookups.endpoint(launch.tenant_id, launch.endpoint_id)
        organisation = self.lookups.organisation(launch.tenant_id)
        if endpoint is None or organisation is None or endpoint.status != EndpointStatus.APPROVED:
            raise LaunchRefused("This EHR is no longer connected to the virtual visit service.", status=403)
        configuration = self.discovery.discover(endpoint.base_url, endpoint.client_id)
        try:
            signed_in = self.smart.sign_in(
                configuration, base_url=endpoint.base_url, client=endpoint.client, code=code, launch=launch
            )
        except DomainError as failure:  # its detail (URLs, statuses) is for the admins: the log and the portal
            self.problems.record(organisation.tenant_id, endpoint.id, "ehr_sign_in", failure.detail)
            raise LaunchRefused(SIGN_IN_UNVERIFIED) from None
        tokens = signed_in.tokens
        try:
            cross_check(tokens.raw, launch.record)
        except ContextMismatch:
            raise LaunchRefused(
                "The visit details in this link do not match the visit the EHR opened. Close this window and "
                "select \u201cBegin virtual visit\u201d in the EHR again."
            ) from None
        reference = visit_reference(tokens.raw)
        if reference is None and tokens.scopes is not None and "launch" not in tokens.scopes:
            raise LaunchRefused(
                "The EHR did not grant the connector the \u201claunch\u201d scope, so it did not say which "
                "appointment this visit is for. Ask your EHR administrator to allow the launch scope for the "
                "connector's client."
            )
        if reference is None:
            raise LaunchRefused(
                "The EHR did not say which appointment this visit is for. Start it from the appointment in the EHR."
            )
        key = appointment_key(organisation.tenant_id, endpoint.id, reference)
        telemetry.bind(appointment_key=key)
        role = launch_role(signed_in.user_type, tokens.raw)
        if launch.purpose == "provider" and role != "clinician":
            log.warning("Provider launch refused: the EHR vouched for a %s", signed_in.user_type or "user of no type")
            raise not_a_clinician(signed_in.user_type)
        references = self._references(organisation, endpoint, visit_references(tokens.raw))
        if role != "clinician":  # a patient (or someone the EHR vouched for as nothing more) waits in the lobby
            link = self.visits.resolve(organisation, endpoint.id, key, None, references)
            # Which patient (a group's patients share the visit's key): the EHR's word for who signed in.
            self.patient_sent(organisation, endpoint.id, link.appointment_key, whose=signed_in.user or key)
            return LaunchResult(link.patient_url, key)
        ehr_user = signed_in.user
        if ehr_user is None:
            # The launch record vouched for a clinician but the EHR did not say which (no openid/fhirUser
            # granted): they join the service organizer's meeting, without the visit session, which is per
            # clinician.
            link = self.visits.resolve(organisation, endpoint.id, key, None, references)
            return LaunchResult(link.join_url, key)
        user = self.clinicians.remember(organisation, endpoint, ehr_user)
        if self.clinicians.wanted(organisation, endpoint, user):  # their Microsoft 365 sign-in first, once
            sign_in = self.clinicians.begin(organisation, endpoint, ehr_user, key, references)
            return LaunchResult("", key, sign_in=sign_in)
        return self._clinician_visit(organisation, endpoint, key, ehr_user, user.organizer_id, references)

    def complete_sign_in(
        self, *, state: str | None, code: str | None, error: str | None, browser: str | None
    ) -> LaunchResult:
        """Back from the clinician's Microsoft 365 sign-in: link them if it vouched for them, then their visit."""
        signed_in = self.clinicians.finish(self._consume(state, browser, "clinician"), code=code, error=error)
        if signed_in is None or signed_in.endpoint.status != EndpointStatus.APPROVED:
            raise LaunchRefused("This EHR is no longer connected to the virtual visit service.", status=403)
        telemetry.bind(appointment_key=signed_in.appointment_key)
        return self._clinician_visit(
            signed_in.organisation,
            signed_in.endpoint,
            signed_in.appointment_key,
            signed_in.ehr_user_id,
            signed_in.organizer_id,
            signed_in.references,
        )

    def _clinician_visit(
        self,
        organisation: Organisation,
        endpoint: FhirEndpoint,
        key: str,
        ehr_user: str,
        organizer: str | None,
        references: VisitReferences,
    ) -> LaunchResult:
        link = self.visits.resolve(organisation, endpoint.id, key, organizer, references)
        session = self.sessions.issue(organisation.tenant_id, key, ehr_user, endpoint.id)
        if endpoint.provider_landing == "panel":  # the connector's page: who is connected, and Teams a click away
            return LaunchResult(f"{self.public_base.rstrip('/')}/api/visits/{key}/panel", key, session)
        return LaunchResult(link.join_url, key, session)

    def _references(
        self, organisation: Organisation, endpoint: FhirEndpoint, references: VisitReferences
    ) -> VisitReferences:
        """The EHR's visit identifiers are kept only where the endpoint writes back (which must name the visit);
        the department, which reports group by, always."""
        if self.writes_back(organisation.tenant_id, endpoint.id):
            return references
        return VisitReferences(department_id=references.department_id)

    def join(self, token: str) -> Joined:
        claims = self.join_links.decode(token)
        telemetry.bind(
            tenant_id=claims.tenant_id, endpoint_id=claims.endpoint_id, appointment_key=claims.appointment_key
        )
        organisation = self.lookups.organisation(claims.tenant_id)
        endpoint = self.lookups.endpoint(claims.tenant_id, claims.endpoint_id)
        if organisation is None or endpoint is None or endpoint.status != EndpointStatus.APPROVED:
            raise JoinLinkRefused("invalid", N_("This link no longer works. Contact your clinic for a new one."))
        appointment = self.tables.data(organisation, AppointmentRepository).find(endpoint.id, claims.appointment_key)
        self.join_links.check(claims, appointment, default_locale=endpoint.patient_locale)
        # A patient of a group visit joins the group's meeting, the one its launches open (keyed by conference),
        # which has no appointment row of its own: this patient's gives its times and clinician.
        meeting = appointment.meeting_key if appointment is not None and appointment.meeting_key else None
        link = self.visits.resolve(  # the appointment read once: the link's own visit's, or the group's times
            organisation, endpoint.id, meeting or claims.appointment_key, appointment=appointment, appointment_read=True
        )
        self.patient_sent(
            organisation, endpoint.id, link.appointment_key, role=claims.role, whose=claims.appointment_key
        )
        return Joined(link.patient_url, dial_in_offer(endpoint, appointment, link, claims.role))
