"""Clinicians' own meetings: the one-time Microsoft 365 sign-in that links an EHR user ID to the clinician's Entra ID
object ID (nothing else is kept, in the organisation's geography), who organises a meeting, and the admins' list
and unlinking (audited).

- A provider launch by a clinician with no link, through an endpoint whose `clinician_sign_in` is on (and a
  connector with CLINICIAN_SIGN_IN_CLIENT_ID), goes through the sign-in before the meeting is created; the visit
  goes on whatever the sign-in's outcome, with the service organizer when it did not link anyone.
- Where the endpoint gives patients Virtual Appointment links, the sign-in also asks for Graph's delegated
  VirtualAppointment.Read, whose refresh token is kept in the secret store (shared/visits/delegated_grants.py); a
  linked clinician without one (linked before, or Entra ID since refused it) is asked again on a launch, at most
  once a day, and unlinking forgets it.
- A meeting created before its clinician launches (the patient first, or a text's link) is organised by the
  appointment's clinician (the SIU's AIP-3, else PV1-7) when that EHR user is linked: the SIU names them by the
  same ID as the launch's fhirUser, bare or as a Practitioner reference.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from shared.auth.principal import Principal, Role
from shared.core.clock import Clock
from shared.core.errors import DomainError, NotFound
from shared.setup.audit import AuditLog
from shared.setup.lookups import ControlLookups
from shared.setup.models import FhirEndpoint, Organisation
from shared.setup.tables import FhirEndpointRepository, OrganisationRepository
from shared.smart.client import AuthorizeRedirect
from shared.smart.pkce import challenge
from shared.smart.states import LaunchState, LaunchStates
from shared.storage.routing import Tables
from shared.visits.delegated_grants import DelegatedGrants
from shared.visits.microsoft_sign_in import MicrosoftSignIn, SignInFailed
from shared.visits.models import ClinicianLink, ClinicianPage, EhrUser, VisitReferences
from shared.visits.roles import is_patient_reference
from shared.visits.tables import EhrUserRepository

log = logging.getLogger(__name__)

LAST_SEEN_RESOLUTION = timedelta(hours=1)
GRANT_ASKED_AGAIN = timedelta(days=1)


@dataclass(frozen=True)
class SignedIn:
    """Where a clinician's launch goes on after their Microsoft 365 sign-in."""

    organisation: Organisation
    endpoint: FhirEndpoint
    ehr_user_id: str
    appointment_key: str
    references: VisitReferences
    organizer_id: str | None
    """The clinician's object ID when the sign-in linked them; None: the visit goes on with the service organizer."""


@dataclass(kw_only=True, eq=False)
class ClinicianLinks:
    tables: Tables
    states: LaunchStates
    sign_in: MicrosoftSignIn | None
    """None: the connector has no clinician sign-in (CLINICIAN_SIGN_IN_CLIENT_ID is empty)."""
    audit: AuditLog
    clock: Clock
    lookups: ControlLookups
    grants: DelegatedGrants

    def remember(self, organisation: Organisation, endpoint: FhirEndpoint, ehr_user_id: str) -> EhrUser:
        """Store a launching clinician's EHR user ID (the only thing kept about them, with their last launch at most
        hourly, not on every launch); their row, with their linked organizer if any."""
        users = self.tables.data(organisation, EhrUserRepository)
        known = users.find(endpoint.id, ehr_user_id)
        now = self.clock.now()
        if known is None:
            known = EhrUser(endpoint_id=endpoint.id, ehr_user_id=ehr_user_id, last_seen_at=now)
            users.upsert(known)
        elif now - known.last_seen_at > LAST_SEEN_RESOLUTION:
            known = known.model_copy(update={"last_seen_at": now})
            users.upsert(known)
        return known

    def wanted(self, organisation: Organisation, endpoint: FhirEndpoint, user: EhrUser) -> bool:
        """Whether this launch's clinician is sent to sign in first: to link them, or for the Virtual Appointment
        grant they have not given (asked at most once a day, so a refusal does not stop every launch)."""
        if self.sign_in is None or not endpoint.clinician_sign_in:
            return False
        if user.organizer_id is None:
            return True
        if not endpoint.virtual_appointment_links:
            return False
        asked = user.grant_asked_at
        if asked is not None and self.clock.now() - asked < GRANT_ASKED_AGAIN:
            return False
        return self.grants.get(organisation.tenant_id, user.organizer_id) is None

    def begin(
        self,
        organisation: Organisation,
        endpoint: FhirEndpoint,
        ehr_user_id: str,
        appointment_key: str,
        references: VisitReferences,
    ) -> AuthorizeRedirect:
        """The sign-in's redirect; the launch's visit waits in a single-use state bound to this browser."""
        assert self.sign_in is not None
        delegated = endpoint.virtual_appointment_links
        if delegated:
            users = self.tables.data(organisation, EhrUserRepository)
            user = users.find(endpoint.id, ehr_user_id)
            if user is not None:
                users.upsert(user.model_copy(update={"grant_asked_at": self.clock.now()}))
        browser = self.states.new_browser_secret()
        state = self.states.begin(
            "clinician",
            tenant_id=organisation.tenant_id,
            endpoint_id=endpoint.id,
            user_id=ehr_user_id,
            redirect_uri=self.sign_in.redirect_uri,
            record={
                "key": appointment_key,
                "references": references.model_dump_json(exclude_defaults=True),
                "delegated": "1" if delegated else "",
            },
            browser=browser,
        )
        url = self.sign_in.authorize_url(
            organisation.tenant_id,
            state=state.state,
            nonce=state.nonce,
            code_challenge=challenge(state.verifier),
            delegated=delegated,
        )
        return AuthorizeRedirect(url, None, state.state, browser)

    def finish(self, launch: LaunchState, *, code: str | None, error: str | None) -> SignedIn | None:
        """Link the clinician when Microsoft vouched for them; None when the endpoint no longer launches."""
        organisation = self.lookups.organisation(launch.tenant_id)
        endpoint = self.lookups.endpoint(launch.tenant_id, launch.endpoint_id)
        if organisation is None or endpoint is None:
            return None
        organizer = None
        granted = False
        if error or not code:
            log.warning("Clinician sign-in was not completed (%s): the visit goes on", (error or "no code")[:60])
        elif self.sign_in is not None:
            try:
                redeemed = self.sign_in.redeem(
                    organisation.tenant_id,
                    code=code,
                    verifier=launch.verifier,
                    nonce=launch.nonce,
                    delegated=launch.record.get("delegated") == "1",
                )
                organizer = redeemed.organizer_id
                if redeemed.refresh_token is not None:
                    self.grants.keep(organisation.tenant_id, organizer, redeemed.refresh_token)
                    granted = True
            except SignInFailed as failed:
                log.warning("Clinician sign-in did not link anyone (%s): the visit goes on", failed.reason)
            except DomainError as failed:
                log.warning("Clinician sign-in could not finish (%s): the visit goes on", type(failed).__name__)
        if organizer is not None:
            self._link(organisation, endpoint, launch.user_id, organizer, granted)
        else:  # a linked clinician asked again for the grant keeps their link
            known = self.tables.data(organisation, EhrUserRepository).find(endpoint.id, launch.user_id)
            organizer = known.organizer_id if known is not None else None
        return SignedIn(
            organisation=organisation,
            endpoint=endpoint,
            ehr_user_id=launch.user_id,
            appointment_key=launch.record.get("key", ""),
            references=VisitReferences.model_validate_json(launch.record.get("references") or "{}"),
            organizer_id=organizer,
        )

    def _link(
        self, organisation: Organisation, endpoint: FhirEndpoint, ehr_user_id: str, organizer: str, granted: bool
    ) -> None:
        now = self.clock.now()
        users = self.tables.data(organisation, EhrUserRepository)
        known = users.find(endpoint.id, ehr_user_id)
        user = EhrUser(endpoint_id=endpoint.id, ehr_user_id=ehr_user_id, last_seen_at=now)
        update: dict[str, object] = {"organizer_id": organizer, "linked_at": now, "last_seen_at": now}
        if granted:  # asked and given: if Microsoft refuses it later, the next launch asks at once
            update["grant_asked_at"] = None
        users.upsert((known or user).model_copy(update=update))
        self.audit.record(
            tenant_id=organisation.tenant_id,
            user_id=organizer,
            action="link",
            entity="clinician",
            entity_id=f"{endpoint.id}/{organizer}",
            fields=("organizer_id",),
        )

    def organizer(self, organisation: Organisation, endpoint_id: str, provider_id: str | None) -> str | None:
        """The linked organizer of an appointment's clinician, if they are linked."""
        if not provider_id:
            return None
        endpoint = self.lookups.endpoint(organisation.tenant_id, endpoint_id)
        candidates = [provider_id, f"Practitioner/{provider_id}"]
        if endpoint is not None:
            candidates.append(f"{endpoint.base_url.rstrip('/')}/Practitioner/{provider_id}")
        users = self.tables.data(organisation, EhrUserRepository)
        for candidate in candidates:
            user = users.find(endpoint_id, candidate)
            if user is not None and user.organizer_id:
                return user.organizer_id
        return None

    def _users(self, principal: Principal, endpoint_id: str) -> EhrUserRepository:
        principal.require(Role.ADMIN)
        if self.tables.control(FhirEndpointRepository).find(principal.tenant_id, endpoint_id) is None:
            raise NotFound("No such FHIR endpoint in your organisation.")
        organisation = self.tables.control(OrganisationRepository).find(principal.tenant_id, "organisation")
        if organisation is None:
            raise NotFound("Your organisation is not set up yet.")
        return self.tables.data(organisation, EhrUserRepository)

    def page(self, principal: Principal, endpoint_id: str, continuation: str | None) -> ClinicianPage:
        """The clinicians who launched visits through an endpoint, and whether each is linked."""
        page = self._users(principal, endpoint_id).page(endpoint_id, page_size=100, continuation=continuation)
        clinicians = [public(user) for user in page.items if not is_patient_reference(user.ehr_user_id)]
        return ClinicianPage(items=clinicians, continuation=page.continuation)

    def unlink(self, principal: Principal, endpoint_id: str, ehr_user_id: str) -> ClinicianLink:
        """Their next meetings have the service organizer again (until they sign in on a later launch)."""
        users = self._users(principal, endpoint_id)
        user = users.find(endpoint_id, ehr_user_id)
        if user is None:
            raise NotFound("No clinician with this EHR user ID has launched a visit through this endpoint.")
        if user.organizer_id is not None:
            users.upsert(user.model_copy(update={"organizer_id": None, "linked_at": None}))
            self.grants.forget(principal.tenant_id, user.organizer_id)
            self.audit.by(
                principal,
                action="unlink",
                entity="clinician",
                entity_id=f"{endpoint_id}/{user.organizer_id}",
                fields=("organizer_id",),
            )
        return public(user.model_copy(update={"organizer_id": None, "linked_at": None}))


def public(user: EhrUser) -> ClinicianLink:
    return ClinicianLink(
        ehr_user_id=user.ehr_user_id,
        linked=user.organizer_id is not None,
        organizer_id=user.organizer_id,
        linked_at=user.linked_at,
        last_seen_at=user.last_seen_at,
    )
