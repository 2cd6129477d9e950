"""Guests and interpreters: an invite to one visit, by a join link of their role texted to a number typed in (kept
only until the link stops working) or copied. They join the visit's meeting from a browser, without an account,
and wait in its lobby until someone in the meeting admits them. Every invite is audited (never its number).

The clinician whose EHR launch opened the visit invites from their visit panel (their visit_session cookie); the
organisation's admins, through the API. A visit can be invited to once its meeting exists (someone launched it)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from shared.auth.principal import Principal, Role
from shared.core.clock import Clock
from shared.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from shared.setup.audit import AuditLog
from shared.setup.models import Organisation
from shared.setup.tables import FhirEndpointRepository, OrganisationRepository
from shared.storage.routing import Tables
from shared.visits.join_links import JoinLinks
from shared.visits.models import InviteCreate, InviteList, InvitePublic, VisitInvite
from shared.visits.sessions import VisitSession
from shared.visits.tables import AppointmentRepository, MeetingLinkRepository, VisitInviteRepository

MAX_INVITES = 20  # per visit: a panel is not a mailing list


def masked(phone: str | None) -> str | None:
    return f"\u2022\u2022\u2022\u2022{phone[-4:]}" if phone else None


@dataclass(frozen=True)
class Inviter:
    """Who invites: an admin (bearer token) or the clinician of the visit (their visit session)."""

    principal: Principal | None = None
    session: VisitSession | None = None


@dataclass(kw_only=True, eq=False)
class VisitInvites:
    tables: Tables
    join_links: JoinLinks
    audit: AuditLog
    clock: Clock
    visit_length: timedelta
    phone_region: Callable[[Organisation], str]
    """The organisation's SMS country: a typed number without its country code is read as one of its numbers."""
    text: Callable[[Organisation, VisitInvite], str | None]
    """Queue the invite's text; why it cannot be sent (texts are not set up), or None once queued."""

    def _visit(self, who: Inviter, key: str) -> tuple[Organisation, str, str]:
        """(organisation, endpoint ID, the audit's actor) of a visit the caller may invite to."""
        if who.session is not None:
            if who.session.appointment_key != key:
                raise Forbidden("Your visit session is for another visit; start this one from the EHR.")
            tenant, endpoint_ids, actor = who.session.tenant_id, [who.session.endpoint_id], "clinician (EHR launch)"
        elif who.principal is not None:
            who.principal.require(Role.ADMIN)
            tenant, actor = who.principal.tenant_id, who.principal.user_id
            endpoint_ids = [e.id for e in self.tables.control(FhirEndpointRepository).iterate(tenant)]
        else:
            raise Forbidden("Start the visit from the EHR to invite someone to it.")
        organisation = self.tables.control(OrganisationRepository).find(tenant, "organisation")
        links = self.tables.data(organisation, MeetingLinkRepository) if organisation else None
        endpoint = next((e for e in endpoint_ids if e and links and links.find(e, key)), None)
        if organisation is None or endpoint is None:
            raise NotFound("This visit has no meeting yet: start it from the EHR first, then invite.")
        return organisation, endpoint, actor

    def invite(self, who: Inviter, key: str, request: InviteCreate) -> InvitePublic:
        organisation, endpoint_id, actor = self._visit(who, key)
        invites = self.tables.data(organisation, VisitInviteRepository)
        if sum(1 for _ in invites.iterate(key)) >= MAX_INVITES:
            raise Conflict(f"This visit has {MAX_INVITES} invites already.")
        phone = self._mobile(organisation, request.phone) if request.phone else None
        now = self.clock.now()
        appointment = self.tables.data(organisation, AppointmentRepository).find(endpoint_id, key)
        start, end = (appointment.start, appointment.end) if appointment else (now, now + self.visit_length)
        end = max(end, now + timedelta(minutes=30))  # a visit that runs late still lets its guests in
        invite = VisitInvite(
            appointment_key=key,
            id=uuid.uuid4().hex[:16],
            endpoint_id=endpoint_id,
            role=request.role,
            phone=phone,
            created_at=now,
            ends_at=end + self.join_links.closes_after,
        )
        link = self.join_links.issue(
            tenant_id=organisation.tenant_id,
            endpoint_id=endpoint_id,
            appointment_key=key,
            role=request.role,
            start=min(start, now),
            end=end,
        )
        invites.create(invite)
        if phone is not None:
            refused = self.text(organisation, invite)
            if refused is not None:
                invites.delete(key, invite.id)  # nothing kept of an invite that was not sent
                raise Conflict(f"The invite cannot be texted: {refused}. Leave the number out and copy the link.")
            invite = invite.model_copy(update={"texted": True})
            invites.upsert(invite)
        self.audit.record(
            tenant_id=organisation.tenant_id,
            user_id=actor,
            action="invite",
            entity="visit",
            entity_id=invite.id,  # the invite's own ID: its visit's key is data of its geography, not the app's
            fields=("role", "texted") if phone else ("role",),
        )
        return _public(invite, link)

    def list(self, who: Inviter, key: str) -> InviteList:
        organisation, _, _ = self._visit(who, key)
        invites = self.tables.data(organisation, VisitInviteRepository).iterate(key)
        return InviteList(items=sorted((_public(i) for i in invites), key=lambda i: i.created_at))

    def _mobile(self, organisation: Organisation, phone: str) -> str:
        import phonenumbers

        region = self.phone_region(organisation)
        try:
            parsed = phonenumbers.parse(phone, region)
        except phonenumbers.NumberParseException:
            parsed = None
        if parsed is None or not phonenumbers.is_valid_number(parsed):
            raise Unprocessable("This is not a phone number that can get texts.", {"phone": "a mobile number"})
        if phonenumbers.region_code_for_number(parsed) != region:
            raise Unprocessable(
                f"Texts go to numbers in {region} only here; copy the link for anyone else.",
                {"phone": f"a number in {region}"},
            )
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _public(invite: VisitInvite, link: str | None = None) -> InvitePublic:
    return InvitePublic(
        id=invite.id,
        role=invite.role,
        texted=invite.texted,
        phone_masked=masked(invite.phone),
        created_at=invite.created_at,
        ends_at=invite.ends_at,
        join_url=link,
    )
