"""An appointment's reminders (up to three per endpoint, each with its own minutes before the visit and template):
when each is due, its entry in the reminder index, and moving them when the endpoint's reminder timing changes.

Each reminder has its own index entry (row key by kind) and its own text record (message ID by kind and due time),
so the dispatcher's exactly-once dedupe tells them apart; a reschedule moves every one of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.core.clock import Clock
from shared.hl7.siu import AppointmentStatus
from shared.messaging.models import ReminderReindex, SmsOutbound, SmsSettings
from shared.messaging.texts import SmsService, reminder_version
from shared.scheduling.models import ReminderDue, index_row
from shared.scheduling.tables import ReminderIndexRepository
from shared.setup.models import Organisation
from shared.storage.routing import Tables
from shared.visits.models import REMINDER_DUE_FIELDS, REMINDER_KINDS, Appointment, ReminderKind

ACTIVE = (AppointmentStatus.BOOKED,)

Dues = dict[ReminderKind, datetime | None]


def minute_of(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M")


def due_fields(dues: Dues) -> dict[str, datetime | None]:
    """The appointment's fields for these due times (every reminder's, None where none is pending)."""
    return {REMINDER_DUE_FIELDS[kind]: dues.get(kind) for kind in REMINDER_KINDS}


def reminder_texts(entries: Iterable[ReminderDue]) -> list[SmsOutbound]:
    """The texts of due reminders, as the dispatcher takes them (one record per kind and due time)."""
    return [
        SmsOutbound(
            tenant_id=entry.tenant_id,
            endpoint_id=entry.endpoint_id,
            appointment_key=entry.appointment_key,
            kind=entry.kind,
            version=reminder_version(entry.due_at),
        )
        for entry in entries
    ]


def kinds_before(change: ReminderReindex) -> tuple[ReminderKind, ...]:
    """The reminders the endpoint sent before its change (messages queued before there were three name none)."""
    if change.kinds_before is not None:
        return tuple(change.kinds_before)
    return ("reminder",) if change.reminders_were_enabled else ()


@dataclass(kw_only=True, eq=False)
class ReminderPlan:
    tables: Tables
    sms: SmsService
    clock: Clock

    def dues(
        self,
        status: AppointmentStatus,
        phone: str | None,
        start: datetime,
        settings: SmsSettings | None,
        previous: Appointment | None = None,
    ) -> Dues:
        """Each enabled reminder still in the future for a booked appointment with a phone number; and one already
        due that `previous` (the appointment before this change) had at the same time: a change that keeps the time,
        arriving after the reminder fell due but before its text went (a backlog, a retry), keeps it pending (its
        text record still sends it once)."""
        if status not in ACTIVE or not phone or settings is None:
            return {}
        now = self.clock.now()
        found: Dues = {}
        for kind, minutes in settings.reminder_minutes().items():
            due = start - timedelta(minutes=minutes)
            if due > now or (previous is not None and previous.due_at(kind) == due):
                found[kind] = due
        return found

    def moved(
        self,
        organisation: Organisation,
        current: Appointment,
        settings: SmsSettings | None,
        change: ReminderReindex,
    ) -> Dues:
        """The due times after the endpoint's timing changed: a reminder already sent (or decided against) is not
        sent again, and with a reminder on before, no pending one means it was due at booking, or removed."""
        planned = self.dues(current.status, current.phone, current.start, settings)
        were_on = kinds_before(change)
        dues: Dues = {}
        for kind in REMINDER_KINDS:
            pending, due = current.due_at(kind), planned.get(kind)
            if pending is None and kind in were_on:
                due = None
            elif pending is not None and self._decided(organisation, current, pending, kind):
                due = pending
            elif due is not None and self._decided(organisation, current, due, kind):
                due = None
            dues[kind] = due
        return dues

    def _decided(self, organisation: Organisation, appointment: Appointment, due: datetime, kind: ReminderKind) -> bool:
        version = reminder_version(due)
        return self.sms.decided(organisation, appointment.appointment_key, appointment.endpoint_id, version, kind)

    def reindex(
        self, organisation: Organisation, previous: Appointment | None, updated: Appointment
    ) -> list[ReminderDue]:
        """Index entries follow the appointment: every moved or dropped reminder's entry goes (all before any is
        written), then every pending one still to come is written. A reminder due within the current minute (or
        before it) gets no entry, as that minute's tick may have run; it is returned, for the caller to queue now
        (its text record keeps it to one text should the tick queue it too)."""
        index = self.tables.data(organisation, ReminderIndexRepository)
        for kind in REMINDER_KINDS:
            before = previous.due_at(kind) if previous is not None else None
            if before is not None and before != updated.due_at(kind):
                index.delete(minute_of(before), index_row(updated.endpoint_id, updated.appointment_key, kind))
        now = self.clock.now()
        due_now: list[ReminderDue] = []
        for kind in REMINDER_KINDS:
            due = updated.due_at(kind)
            if due is None or (due <= now and previous is not None and previous.due_at(kind) == due):
                continue  # a reminder already sent stays where it was, without an entry
            entry = ReminderDue(
                minute=minute_of(due),
                tenant_id=organisation.tenant_id,
                endpoint_id=updated.endpoint_id,
                appointment_key=updated.appointment_key,
                due_at=due,
                kind=kind,
            )
            if entry.minute <= minute_of(now):
                due_now.append(entry)
                continue
            index.upsert(entry)
        return due_now
