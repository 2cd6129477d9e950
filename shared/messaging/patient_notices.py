"""Texts to a visit's patient that are not about its booking: the clinician's "running late" notice, and the join
link sent again to a patient who lost it. Queued on `sms-outbound` like every text (keys only: the number stays in
the appointment's row), sent by the dispatcher with the endpoint's sender number, rate limit and retries, after
the same checks: a linked sender number, both consents, a number, and no STOP from it. Each is in the patient's
locale. `version` says what the text is for: `late:{minutes}:{when}`, `resend:{when}`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from shared.core.i18n import N_, translate
from shared.core.settings import Geography
from shared.hl7.siu import AppointmentStatus
from shared.messaging.models import SmsOutbound, SmsSettings
from shared.messaging.sms_setup import SmsSetup
from shared.messaging.texts import Composed, NotSent, SmsService
from shared.setup.models import FhirEndpoint, Organisation
from shared.storage.routing import Tables
from shared.visits.models import Appointment
from shared.visits.tables import AppointmentRepository

LATE = N_(
    "{clinic}: your clinician is running about {minutes} minutes late for your video visit. Please stay ready; "
    "your join link still works."
)


@dataclass(kw_only=True, eq=False)
class PatientNotices:
    tables: Tables
    sms: SmsService
    setup: SmsSetup
    enqueue: Callable[[Geography, SmsOutbound], None]

    def _refusal(self, organisation: Organisation, appointment: Appointment) -> str | None:
        settings = self.sms.settings_for(organisation.tenant_id, appointment.endpoint_id)
        if settings is None or not settings.sender_number:
            return "no sender number is linked to this EHR endpoint"
        if not self.setup.has_consents(organisation.tenant_id):
            return "the organisation's SMS consents are not given"
        if not appointment.phone:
            return "the patient has no mobile number on file"
        if self.sms.opted_out(organisation, settings.sender_number, appointment.phone):
            return "the patient's number has texted STOP to this clinic"
        return None

    def queue_late(
        self, organisation: Organisation, appointment: Appointment, minutes: int, at: datetime
    ) -> str | None:
        """Queue the patient's late notice; why it cannot go, or None."""
        refused = self._refusal(organisation, appointment)
        if refused is None:
            self._queue(organisation, appointment, "late", f"late:{minutes}:{at.isoformat()}")
        return refused

    def queue_resend(self, organisation: Organisation, appointment: Appointment, at: datetime) -> bool:
        """Queue the patient's join link again; whether it could go."""
        if self._refusal(organisation, appointment) is not None:
            return False
        self._queue(organisation, appointment, "link-resend", f"resend:{at.isoformat()}")
        return True

    def _queue(self, organisation: Organisation, appointment: Appointment, kind: str, version: str) -> None:
        message = SmsOutbound.model_validate(
            {
                "tenant_id": organisation.tenant_id,
                "endpoint_id": appointment.endpoint_id,
                "appointment_key": appointment.appointment_key,
                "kind": kind,
                "version": version,
            }
        )
        self.enqueue(organisation.geography, message)

    def compose(
        self,
        organisation: Organisation,
        endpoint: FhirEndpoint,
        message: SmsOutbound,
        settings: SmsSettings | None,
        now: datetime,
    ) -> Composed | NotSent:
        """The dispatcher's question for a late notice or a link sent again: what to send, or why not."""
        appointment = self.tables.data(organisation, AppointmentRepository).find(endpoint.id, message.appointment_key)
        if appointment is None or appointment.status != AppointmentStatus.BOOKED or appointment.end <= now:
            return NotSent("skipped", "the visit has ended or was cancelled")
        refused = self._refusal(organisation, appointment)
        if refused is not None or settings is None or not settings.sender_number or not appointment.phone:
            status = "opted_out" if refused and "STOP" in refused else "skipped"
            return NotSent(status, refused or "no sender number is linked to this endpoint")
        locale = appointment.locale or endpoint.patient_locale
        if message.kind == "late":
            minutes = message.version.split(":", 2)[1]
            body = translate(locale, LATE).replace("{clinic}", settings.clinic_name).replace("{minutes}", minutes)
        else:
            body = self.sms.link_text(settings, endpoint, appointment, organisation, locale)
        return Composed(settings.sender_number, appointment.phone, body)
