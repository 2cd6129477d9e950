"""Patients' links to Teams Virtual Appointments: where the endpoint turns them on, a meeting organised by a
linked clinician who granted the connector Graph's delegated VirtualAppointment.Read gets its Virtual Appointment
join URL (mobile-browser join without the Teams app, the virtual lobby) when it is created, read with an access
token made from the clinician's refresh token and dropped at once. Patients' launches, texts' links and invites'
links open it; where there is none (the service organizer's meetings, a clinician without a grant, Microsoft not
answering) they open the Teams browser join URL, as before. The URL is the meeting's, not a person's: it is kept
on the meeting's mapping."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shared.core.errors import DomainError
from shared.setup.lookups import ControlLookups
from shared.setup.models import FhirEndpoint
from shared.visits.delegated_grants import DelegatedGrants
from shared.visits.microsoft_sign_in import GrantRevoked, MicrosoftSignIn
from shared.visits.providers import MeetingProvider

log = logging.getLogger(__name__)


@dataclass(kw_only=True, eq=False)
class VirtualAppointments:
    sign_in: MicrosoftSignIn | None
    grants: DelegatedGrants
    meetings: MeetingProvider
    lookups: ControlLookups

    def on(self, endpoint: FhirEndpoint | None) -> bool:
        return self.sign_in is not None and endpoint is not None and endpoint.virtual_appointment_links

    def granted(self, tenant_id: str, organizer_id: str) -> bool:
        return self.grants.get(tenant_id, organizer_id) is not None

    def join_url(self, tenant_id: str, endpoint_id: str, organizer_id: str, meeting_id: str) -> str | None:
        """The meeting's Virtual Appointment join URL, or None where it cannot be had (the visit goes on)."""
        if self.sign_in is None or not self.on(self.lookups.endpoint(tenant_id, endpoint_id)):
            return None
        refresh = self.grants.get(tenant_id, organizer_id)
        if refresh is None:
            return None
        try:
            token = self.sign_in.delegated_token(tenant_id, refresh)
        except GrantRevoked as revoked:
            log.warning("A clinician's delegated grant was refused (%s): patients get the Teams link", revoked)
            self.grants.forget(tenant_id, organizer_id)
            return None
        except DomainError as failed:
            log.warning("No delegated token for a Virtual Appointment link (%s)", type(failed).__name__)
            return None
        if token.refresh_token and token.refresh_token != refresh:
            self.grants.keep(tenant_id, organizer_id, token.refresh_token)  # Entra ID rotates them
        try:
            return self.meetings.virtual_appointment_url(organizer_id, meeting_id, token.access_token)
        except DomainError as failed:
            log.warning("No Virtual Appointment join URL for a meeting (%s)", type(failed).__name__)
            return None
