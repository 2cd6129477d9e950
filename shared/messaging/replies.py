"""Replies to texts: what a patient answers to a reminder (or to any text from an endpoint's number).

- "C" or "YES", and the words of each shipped locale ("SI", "SÍ"), confirm the sender's next visit at the
  number's endpoints: recorded on the appointment (when, never what was written), answered with the endpoint's
  confirmation text in the patient's locale (queued like any text: once per appointment version), and written
  back to the EHR where the endpoint writes back (`on_confirmed`, handed down by the runtime).
- "HELP" (or "AYUDA") gets the clinic's name and phone number, except on toll-free numbers: there the carrier and
  ACS answer HELP (and STOP) themselves, and a second answer would only cost a text.
- Anything else gets one text with the clinic's phone number, at most once a day per number (a marker keyed by
  the number's HMAC, as opt-outs are). Without a clinic phone number in the SMS settings there is nothing to say.

STOP and START are handled first (delivery.py), as they always were; "YES" is a START word too, and does both.
Nothing is sent to a number that texted STOP, and no number or text is logged.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from shared.core.clock import Clock
from shared.core.errors import Conflict, NotFound
from shared.core.i18n import N_, translate
from shared.hl7.siu import AppointmentStatus
from shared.messaging.dispatch import TextDispatch
from shared.messaging.models import ReplyMarker, SmsOutbound, SmsSettings
from shared.messaging.phone_numbers import PhoneNumberService
from shared.messaging.providers import OutgoingSms, SmsFailed, SmsRetryable, SmsSender, SmsThrottled
from shared.messaging.tables import (
    PhoneNumberRepository,
    ReplyMarkerRepository,
    SmsSettingsRepository,
)
from shared.messaging.texts import SmsService
from shared.setup.lookups import ControlLookups
from shared.setup.models import FhirEndpoint, Organisation
from shared.storage.routing import Tables
from shared.visits.models import Appointment
from shared.visits.tables import AppointmentRepository

log = logging.getLogger(__name__)

CONFIRM_WORDS: dict[str, frozenset[str]] = {"en": frozenset({"C", "YES"}), "es": frozenset({"SI", "SÍ"})}
CONFIRMS = frozenset().union(*CONFIRM_WORDS.values())
HELP_WORDS = frozenset({"HELP", "AYUDA"})
HELP_TEXT = N_("{clinic}: texts about your video visits. For help, call {phone}. Reply STOP to opt out.")
OTHER_TEXT = N_("{clinic}: replies to this number are not read. To reach us, call {phone}.")
REPLY_IDS = uuid.UUID("0b6f3f7e-5c1a-4d8e-9a57-2f1c4e6d8b90")  # names each answer's repeatability ID

Outcome = Literal["confirmed", "help", "answered", "not answered"]


def normalise(text: str) -> str:
    """The word a reply is, whatever its case, spacing and closing punctuation ("sí.", " Yes!")."""
    return text.strip().strip(".!?¡¿ ").upper()


@dataclass(frozen=True)
class Sender:
    """Whose number was texted, and the texter's next visit there (None: no visit to come)."""

    organisation: Organisation
    endpoint: FhirEndpoint
    settings: SmsSettings
    appointment: Appointment | None


@dataclass(kw_only=True, eq=False)
class Replies:
    tables: Tables
    lookups: ControlLookups
    sms: SmsService
    numbers: PhoneNumberService
    dispatch: TextDispatch
    sender: SmsSender
    clock: Clock
    on_confirmed: Callable[[Organisation, str, str], object] | None = None
    """The EHR is told of a confirmation (writeback, where the endpoint writes back)."""

    def answer(self, text: str, patient: str, ours: str, event_id: str) -> Outcome:
        word = normalise(text)
        found = self._find(patient, ours)
        if found is None:
            return "not answered"  # the number serves no endpoint any more
        if self.sms.opted_out(found.organisation, ours, patient):
            return "not answered"
        outcome: Outcome = "not answered"
        if word in CONFIRMS and found.appointment is not None and found.settings.confirm_by_reply:
            self._confirm(found, found.appointment)
            outcome = "confirmed"
        elif word in HELP_WORDS:
            if not self._answers_help_itself(found.organisation, ours):
                outcome = "help" if self._send(found, patient, HELP_TEXT, event_id) else outcome
        elif found.settings.clinic_phone and self._first_today(found, patient, ours):
            outcome = "answered" if self._send(found, patient, OTHER_TEXT, event_id, undo=True) else outcome
        log.info("Reply to a text of endpoint %s: %s", found.endpoint.id, outcome)
        return outcome

    def _find(self, patient: str, ours: str) -> Sender | None:
        """The endpoint of the texter's next visit (booked, not over) among those sending from `ours`; with none
        to come, the first such endpoint. The appointments are read by a filter within each endpoint's partition
        (replies are few; no index of numbers is kept)."""
        now = self.clock.now()
        fallback: Sender | None = None
        best: Sender | None = None
        for tenant_id in sorted(self.numbers.tenants_of(ours)):
            organisation = self.lookups.organisation(tenant_id)
            if organisation is None:
                continue
            rows = self.tables.control(SmsSettingsRepository).iterate(tenant_id)
            for settings in sorted((s for s in rows if s.sender_number == ours), key=lambda s: s.endpoint_id):
                endpoint = self.lookups.endpoint(tenant_id, settings.endpoint_id)
                if endpoint is None:
                    continue
                fallback = fallback or Sender(organisation, endpoint, settings, None)
                visits = self.tables.data(organisation, AppointmentRepository).iterate(
                    endpoint.id, query="phone eq @phone and end gt @now", parameters={"phone": patient, "now": now}
                )
                booked = [a for a in visits if a.status == AppointmentStatus.BOOKED]
                for visit in booked:
                    if best is None or best.appointment is None or visit.start < best.appointment.start:
                        best = Sender(organisation, endpoint, settings, visit)
        return best or fallback

    def _confirm(self, found: Sender, appointment: Appointment) -> None:
        appointments = self.tables.data(found.organisation, AppointmentRepository)
        current = appointment
        for _ in range(5):  # a scheduling message may write the appointment meanwhile
            try:
                stored = appointments.get_versioned(appointment.endpoint_id, appointment.appointment_key)
            except NotFound:
                return
            current = stored.item
            if current.confirmed_at is not None:
                break
            try:
                appointments.replace(current.model_copy(update={"confirmed_at": self.clock.now()}), stored.etag)
                break
            except Conflict:
                continue
        # One confirmation text per appointment version: a second "C" finds it settled.
        self.dispatch.enqueue(
            found.organisation.geography,
            SmsOutbound(
                tenant_id=found.organisation.tenant_id,
                endpoint_id=current.endpoint_id,
                appointment_key=current.appointment_key,
                kind="confirmed",
                version=current.version,
            ),
        )
        if self.on_confirmed is not None:
            self.on_confirmed(found.organisation, current.endpoint_id, current.appointment_key)

    def _answers_help_itself(self, organisation: Organisation, ours: str) -> bool:
        """Toll-free numbers: the carrier and ACS answer HELP and STOP themselves."""
        held = self.tables.control(PhoneNumberRepository).find(organisation.tenant_id, ours)
        return held is None or held.number_type == "toll_free"

    def _first_today(self, found: Sender, patient: str, ours: str) -> bool:
        """Claims today's answer to this number (the marker is written before the text goes, so two replies at
        once get one answer)."""
        markers = self.tables.data(found.organisation, ReplyMarkerRepository)
        marker = ReplyMarker(number_hash=self.sms.number_hash(patient), sender=ours, day=self._today())
        try:
            stored = markers.get_versioned(ours, marker.number_hash)
        except NotFound:
            stored = None
        try:
            if stored is None:
                markers.create(marker)
            elif stored.item.day == marker.day:
                return False
            else:
                markers.replace(marker, stored.etag)
        except Conflict:
            return False
        return True

    def _today(self) -> str:
        return self.clock.now().date().isoformat()

    def _send(self, found: Sender, patient: str, message: str, event_id: str, *, undo: bool = False) -> bool:
        settings = found.settings
        if not settings.clinic_phone or not settings.sender_number:
            return False
        if not self.sms.setup.has_consents(found.organisation.tenant_id):
            return False
        visit = found.appointment
        locale = (visit.locale if visit else None) or found.endpoint.patient_locale
        body = translate(locale, message).replace("{clinic}", settings.clinic_name)
        repeatability = uuid.uuid5(REPLY_IDS, f"{event_id}|{message}")
        outgoing = OutgoingSms(
            id=repeatability.hex,
            to=patient,
            sender=settings.sender_number,
            body=body.replace("{phone}", settings.clinic_phone),
            tag=f"{found.organisation.tenant_id}|{found.endpoint.id}|{repeatability.hex}",  # no record: not tracked
            repeatability_id=str(repeatability),
            first_sent=self.clock.now(),
        )
        try:
            self.sender.send(outgoing)
        except (SmsRetryable, SmsThrottled):  # Event Grid delivers the reply again: today's answer is not spent
            if undo:
                self.tables.data(found.organisation, ReplyMarkerRepository).delete(
                    settings.sender_number, self.sms.number_hash(patient)
                )
            raise
        except SmsFailed as refused:
            log.warning("Answer to a reply for endpoint %s refused: %s", found.endpoint.id, refused.detail)
            return False
        return True
