"""The text that carries a guest's or interpreter's invite: queued on `sms-outbound` like every text (keys only; the
number stays in the invite's row), sent by the dispatcher with the endpoint's sender number, its rate limit and
retries, after the same checks: a linked sender number, both consents, and no STOP from that number. Once the
invite's link has stopped working (its number is deleted then) a text still waiting is not sent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from shared.core.i18n import N_, translate
from shared.core.settings import Geography
from shared.messaging.models import SmsOutbound, SmsSettings
from shared.messaging.sms_setup import SmsSetup
from shared.messaging.texts import Composed, NotSent, SmsService
from shared.setup.models import FhirEndpoint, Organisation
from shared.storage.routing import Tables
from shared.visits.join_links import JoinLinks
from shared.visits.models import VisitInvite
from shared.visits.tables import VisitInviteRepository

ROLE_TEXT = {"guest": N_("a guest"), "interpreter": N_("the interpreter")}
INVITE = N_("{clinic}: you are invited to a video visit as {role}. Join here: {link}")


def invite_body(clinic: str, role: str, link: str, locale: str = "en_US") -> str:
    role_text = translate(locale, ROLE_TEXT.get(role, ROLE_TEXT["guest"]))
    return translate(locale, INVITE).replace("{clinic}", clinic).replace("{role}", role_text).replace("{link}", link)


@dataclass(kw_only=True, eq=False)
class InviteTexts:
    tables: Tables
    sms: SmsService
    setup: SmsSetup
    enqueue: Callable[[Geography, SmsOutbound], None]
    join_links: JoinLinks

    def queue(self, organisation: Organisation, invite: VisitInvite) -> str | None:
        """Queue the invite's text; why it cannot go (said to the clinician at once), or None."""
        settings = self.sms.settings_for(organisation.tenant_id, invite.endpoint_id)
        if settings is None or not settings.sender_number:
            return "no sender number is linked to this EHR endpoint"
        if not self.setup.has_consents(organisation.tenant_id):
            return "the organisation's SMS consents are not given"
        if invite.phone and self.sms.opted_out(organisation, settings.sender_number, invite.phone):
            return "that number has texted STOP to this clinic"
        message = SmsOutbound(
            tenant_id=organisation.tenant_id,
            endpoint_id=invite.endpoint_id,
            appointment_key=invite.appointment_key,
            kind="invite",
            version=invite.id,
        )
        self.enqueue(organisation.geography, message)
        return None

    def compose(
        self,
        organisation: Organisation,
        endpoint: FhirEndpoint,
        message: SmsOutbound,
        settings: SmsSettings | None,
        now: datetime,
    ) -> Composed | NotSent:
        """The dispatcher's question for an invite's text: what to send, or why not."""
        invite = self.tables.data(organisation, VisitInviteRepository).find(message.appointment_key, message.version)
        if invite is None or invite.phone is None or invite.ends_at <= now:
            return NotSent("skipped", "the visit has ended")
        if settings is None or not settings.sender_number:
            return NotSent("skipped", "no sender number is linked to this endpoint")
        if self.sms.opted_out(organisation, settings.sender_number, invite.phone):
            return NotSent("opted_out", "the number texted STOP")
        link = self.join_links.issue(
            tenant_id=organisation.tenant_id,
            endpoint_id=endpoint.id,
            appointment_key=invite.appointment_key,
            role=invite.role,
            start=invite.created_at,
            end=invite.ends_at - self.join_links.closes_after,
        )
        # A guest's language is not known: the endpoint's patients' default.
        body = invite_body(settings.clinic_name, invite.role, link, endpoint.patient_locale)
        return Composed(settings.sender_number, invite.phone, body)
