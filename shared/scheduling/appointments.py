"""The scheduling processor: an appointment change (parsed and queued at ingest, in the organisation's
geography) becomes the appointment's latest state, its reminder index entry, and (per the endpoint's settings) a
confirmation on the `sms-outbound` queue.

Idempotent: the appointment's version is the message's MSH-7 time (its receipt time when MSH-7 is later) and
control ID, so a duplicate or an older message changes nothing, and out-of-order messages settle on the latest.
A confirmation is written into the appointment together with the new state (`pending_sms`) and then queued, so a
crash in between queues it on the queue's retry; the dispatcher sends one text however many copies are queued.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from shared.core import telemetry
from shared.core.clock import Clock
from shared.core.errors import Conflict, NotFound
from shared.hl7.siu import AppointmentEvent, AppointmentStatus, parse_siu
from shared.messaging.dispatch import TextDispatch
from shared.messaging.models import ReminderReindex, SmsOutbound, SmsSettings
from shared.messaging.texts import SmsService
from shared.scheduling.models import AppointmentChange, InboundHl7, ReminderDue
from shared.scheduling.reminder_plan import ACTIVE, ReminderPlan, due_fields, reminder_texts
from shared.scheduling.reminder_plan import minute_of as minute_of
from shared.scheduling.sealing import PhoneSeal
from shared.setup.lookups import ControlLookups
from shared.setup.models import FhirEndpoint, Organisation
from shared.setup.tables import FhirEndpointRepository, OrganisationRepository
from shared.storage.repository import Versioned
from shared.storage.routing import Tables
from shared.visits.models import REMINDER_KINDS, Appointment, SmsType, appointment_key
from shared.visits.tables import AppointmentRepository

log = logging.getLogger(__name__)


Outcome = Literal["applied", "duplicate", "older"]


def visit_reference(event: AppointmentEvent) -> str:
    """The same reference the launch records use (the visit CSN), so texts and launches share one meeting."""
    return f"csn:{event.visit_id}" if event.visit_id else f"appointment:{event.appointment_id}"


def change_from(
    event: AppointmentEvent, *, tenant_id: str, endpoint_id: str, received_at: datetime, seal: PhoneSeal | None
) -> AppointmentChange:
    """What the processor needs of a parsed message, and nothing that identifies the patient: the phone number
    only with a seal (the endpoint sends texts), and sealed."""
    key = appointment_key(tenant_id, endpoint_id, visit_reference(event))
    group = appointment_key(tenant_id, endpoint_id, f"conference:{event.group_id}") if event.group_id else None
    # A message dated after its receipt (a sender's clock running ahead, within the skew ingest accepts) orders as
    # received: dated as sent, it would outrank every message of the next minutes and freeze the appointment.
    ordered_at = min(event.message_time or received_at, received_at)
    return AppointmentChange(
        tenant_id=tenant_id,
        endpoint_id=endpoint_id,
        control_id=event.message_id,
        received_at=received_at,
        appointment_key=key,
        version=f"{ordered_at:%Y%m%d%H%M%S%f}|{event.message_id}",
        event=event.event,
        start=event.start,
        end=event.end,
        status=event.status,
        phone_sealed=seal.seal(event.phone, key) if seal and event.phone else None,
        phone_problem=event.phone_problem if seal else None,
        provider_id=event.provider_id,
        meeting_key=group,
        locale=event.locale,
    )


@dataclass(kw_only=True, eq=False)
class AppointmentProcessor:
    tables: Tables
    lookups: ControlLookups
    sms: SmsService
    dispatch: TextDispatch
    seal: PhoneSeal
    plan: ReminderPlan
    clock: Clock

    def process(self, inbound: InboundHl7) -> Outcome:
        """A message as received (the `hl7-inbound` queue of earlier versions): parse it, then apply it."""
        endpoint = self.tables.control(FhirEndpointRepository).find(inbound.tenant_id, inbound.endpoint_id)
        if endpoint is None:
            raise NotFound(f"Endpoint {inbound.endpoint_id} no longer exists; the message cannot be applied.")
        organisation = self.lookups.organisation(inbound.tenant_id)
        region = organisation.sms_country if organisation is not None else "US"
        event = parse_siu(inbound.message, ZoneInfo(endpoint.time_zone), phone_region=region)
        return self.apply(
            change_from(
                event,
                tenant_id=inbound.tenant_id,
                endpoint_id=inbound.endpoint_id,
                received_at=inbound.received_at,
                seal=self.seal,
            )
        )

    def apply(self, change: AppointmentChange) -> Outcome:
        """Apply a queued change. The endpoint and organisation come from the per-worker cache (read at most once a
        minute); the appointment itself is read and written with its ETag, so parallel changes cannot collide."""
        telemetry.bind(
            tenant_id=change.tenant_id,
            endpoint_id=change.endpoint_id,
            appointment_key=change.appointment_key,
            hl7_control_id=change.control_id,
        )
        endpoint = self.lookups.endpoint(change.tenant_id, change.endpoint_id)
        organisation = self.lookups.organisation(change.tenant_id)
        if endpoint is None or organisation is None:
            raise NotFound(f"Endpoint {change.endpoint_id} no longer exists; the message cannot be applied.")
        for _ in range(5):  # optimistic concurrency: another worker may write the same appointment meanwhile
            try:
                return self._apply(organisation, endpoint, change)
            except Conflict:
                continue
        raise Conflict(f"Appointment update for message {change.control_id} kept colliding; it will be retried.")

    def _apply(self, organisation: Organisation, endpoint: FhirEndpoint, change: AppointmentChange) -> Outcome:
        appointments = self.tables.data(organisation, AppointmentRepository)
        described = f"{change.event} message {change.control_id}"
        try:
            current: Versioned[Appointment] | None = appointments.get_versioned(endpoint.id, change.appointment_key)
        except NotFound:
            current = None
        if current is not None:
            if current.item.version == change.version:
                if current.item.pending_sms:
                    self._queue_confirmation(organisation, current.item)
                log.info("HL7 %s: duplicate", described)
                return "duplicate"
            if current.item.version > change.version:
                log.info("HL7 %s: older than the stored state, ignored", described)
                return "older"
        previous = current.item if current else None
        settings = self.sms.settings_for(organisation.tenant_id, endpoint.id, cached=True)
        texts = settings is not None and bool(settings.sender_number)
        kind = self._confirmation(previous, change) if texts else None  # no number: nothing to queue
        # The text the stored version queued, if this change queues none: queued once more (its record keeps it to
        # one text), since a crash between that version's write and its text's queueing leaves nobody to queue it
        # once a newer message has moved the appointment on (its redelivery is then older, and ignored).
        carried = previous if texts and kind is None and previous is not None and previous.pending_sms else None
        phone = self.seal.open(change.phone_sealed, change.appointment_key) if change.phone_sealed else None
        dues = self.plan.dues(change.status, phone, change.start, settings, previous)
        updated = Appointment(
            endpoint_id=endpoint.id,
            appointment_key=change.appointment_key,
            start=change.start,
            end=change.end,
            status=change.status,
            version=change.version,
            phone=phone if change.end > self.clock.now() else None,
            phone_problem=change.phone_problem,
            provider_id=change.provider_id,
            meeting_key=change.meeting_key,
            locale=change.locale or endpoint.patient_locale,
            pending_sms=kind,
            text_version=change.version if kind else previous.text_version if previous else None,
            confirmed_at=_still_confirmed(previous, change),
            **due_fields(dues),
        )
        if current:
            appointments.replace(updated, current.etag)
        else:
            appointments.create(updated)
        self._queue_due_now(organisation, self.plan.reindex(organisation, previous, updated))
        if kind:
            self._queue_confirmation(organisation, updated)
        elif carried is not None:
            self._queue_confirmation(organisation, carried)
        log.info("HL7 %s applied", described)
        return "applied"

    def reschedule_reminders(self, change: ReminderReindex) -> int:
        """The endpoint's reminder timing changed: move (or drop) the reminders of its future appointments.

        An appointment without a pending reminder gets one only if reminders were off before (with them on, no
        pending reminder means it was sent, is being sent, or was already due at booking), and only if none was
        sent for its current version.
        """
        endpoint = self.tables.control(FhirEndpointRepository).find(change.tenant_id, change.endpoint_id)
        organisation = self.tables.control(OrganisationRepository).find(change.tenant_id, "organisation")
        if endpoint is None or organisation is None:
            return 0
        settings = self.sms.settings_for(change.tenant_id, endpoint.id)
        appointments = self.tables.data(organisation, AppointmentRepository)
        moved = 0
        future = appointments.iterate(endpoint.id, query="start gt @now", parameters={"now": self.clock.now()})
        for appointment in future:
            for _ in range(5):
                try:
                    moved += self._reschedule(organisation, appointments, appointment, settings, change)
                    break
                except Conflict:  # a scheduling message or a reminder tick wrote it meanwhile: look again
                    continue
        log.info("Reminders of endpoint %s rescheduled: %d moved", endpoint.id, moved)
        return moved

    def _reschedule(
        self,
        organisation: Organisation,
        appointments: AppointmentRepository,
        appointment: Appointment,
        settings: SmsSettings | None,
        change: ReminderReindex,
    ) -> int:
        stored = appointments.get_versioned(appointment.endpoint_id, appointment.appointment_key)
        current = stored.item
        dues = self.plan.moved(organisation, current, settings, change)
        if all(dues[kind] == current.due_at(kind) for kind in REMINDER_KINDS):
            return 0
        updated = current.model_copy(update=due_fields(dues))
        appointments.replace(updated, stored.etag)
        self._queue_due_now(organisation, self.plan.reindex(organisation, current, updated))
        return 1

    @staticmethod
    def _confirmation(previous: Appointment | None, event: AppointmentChange) -> SmsType | None:
        if event.status in (AppointmentStatus.CANCELLED, AppointmentStatus.DELETED):
            return "cancelled" if previous is None or previous.status in ACTIVE else None
        if event.status not in ACTIVE:
            return None
        if previous is None or previous.status not in ACTIVE:
            return "scheduled"
        # An update text when what the patient was told changes: the time (start or end) or the clinician.
        if previous.start != event.start or previous.end != event.end:
            return "rescheduled"
        if previous.provider_id and event.provider_id and previous.provider_id != event.provider_id:
            return "rescheduled"
        return None

    def _queue_due_now(self, organisation: Organisation, due: list[ReminderDue]) -> None:
        """Reminders due in a minute whose tick may have run: queued now, not left to the index."""
        if due:
            self.dispatch.enqueue_many(organisation.geography, reminder_texts(due))

    def _queue_confirmation(self, organisation: Organisation, appointment: Appointment) -> None:
        assert appointment.pending_sms is not None
        self.dispatch.enqueue(
            organisation.geography,
            SmsOutbound(
                tenant_id=organisation.tenant_id,
                endpoint_id=appointment.endpoint_id,
                appointment_key=appointment.appointment_key,
                kind=appointment.pending_sms,
                version=appointment.version,
            ),
        )


def _still_confirmed(previous: Appointment | None, change: AppointmentChange) -> datetime | None:
    """A patient's confirmation holds until the visit moves (a new time is confirmed again)."""
    if previous is None or previous.start != change.start or change.status not in ACTIVE:
        return None
    return previous.confirmed_at
