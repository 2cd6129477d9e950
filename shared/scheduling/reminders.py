"""Reminder texts and phone-number retention.

A tick reads only the reminder-index partitions (one per UTC minute) from the minute after its last run up to
now, with one range query per geography. Each reminder is claimed on the appointment with its ETag before it is
sent, so two instances ticking at once send it once. It is at most once: an instance that dies between the claim
and the send loses that reminder, because a double text is the worse failure for patients. Nothing is sent for
an appointment that was cancelled, deleted, moved, has started, or whose reminder is more than `max_late`
overdue (after downtime).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.core.clock import Clock
from shared.core.errors import Conflict, NotFound
from shared.core.settings import Geography
from shared.hl7.siu import AppointmentStatus
from shared.messaging.models import SmsSettings
from shared.messaging.texts import SmsService
from shared.scheduling.appointments import minute_of
from shared.scheduling.models import ReminderCursor, ReminderDue
from shared.scheduling.tables import ReminderCursorRepository, ReminderIndexRepository
from shared.setup.models import FhirEndpoint, Organisation
from shared.setup.tables import FhirEndpointRepository, OrganisationRepository
from shared.storage.routing import Tables
from shared.visits.models import Appointment
from shared.visits.tables import AppointmentRepository

log = logging.getLogger(__name__)


FIRST_RUN_LOOKBACK = timedelta(minutes=5)


@dataclass
class TickReport:
    read: int = 0
    sent: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


@dataclass(kw_only=True, eq=False)
class _TickLookups:
    """Control-plane rows a tick needs, each read once per tick (a tick touches few organisations)."""

    tables: Tables
    sms: SmsService

    def __post_init__(self) -> None:
        self._organisations: dict[str, Organisation | None] = {}
        self._endpoints: dict[tuple[str, str], FhirEndpoint | None] = {}
        self._settings: dict[tuple[str, str], SmsSettings | None] = {}

    def organisation(self, tenant_id: str) -> Organisation | None:
        if tenant_id not in self._organisations:
            repository = self.tables.control(OrganisationRepository)
            self._organisations[tenant_id] = repository.find(tenant_id, "organisation")
        return self._organisations[tenant_id]

    def endpoint(self, tenant_id: str, endpoint_id: str) -> FhirEndpoint | None:
        if (tenant_id, endpoint_id) not in self._endpoints:
            repository = self.tables.control(FhirEndpointRepository)
            self._endpoints[(tenant_id, endpoint_id)] = repository.find(tenant_id, endpoint_id)
        return self._endpoints[(tenant_id, endpoint_id)]

    def settings(self, tenant_id: str, endpoint_id: str) -> SmsSettings | None:
        if (tenant_id, endpoint_id) not in self._settings:
            self._settings[(tenant_id, endpoint_id)] = self.sms.settings_for(tenant_id, endpoint_id)
        return self._settings[(tenant_id, endpoint_id)]


@dataclass(kw_only=True, eq=False)
class ReminderService:
    tables: Tables
    sms: SmsService
    clock: Clock
    max_late: timedelta

    def tick(self, geography: Geography) -> TickReport:
        now = self.clock.now()
        cursors = self.tables.in_geography(geography, ReminderCursorRepository)
        cursor = cursors.find("cursor", geography.value)
        first = cursor.last_minute if cursor else minute_of(now - FIRST_RUN_LOOKBACK)
        last = minute_of(now)
        report = TickReport()
        if first >= last and cursor is not None:
            return report
        index = self.tables.in_geography(geography, ReminderIndexRepository)
        due = list(
            index.iterate(
                query="PartitionKey gt @first and PartitionKey le @last", parameters={"first": first, "last": last}
            )
        )
        report.read = len(due)
        lookups = _TickLookups(tables=self.tables, sms=self.sms)
        for entry in due:
            self._remind(entry, now, report, lookups)
        cursors.upsert(ReminderCursor(geography=geography.value, last_minute=last))
        if report.read:
            log.info(
                "Reminder tick %s: read %d, sent %d, skipped %s",
                geography.value,
                report.read,
                report.sent,
                report.skipped,
            )
        return report

    def _remind(self, entry: ReminderDue, now: datetime, report: TickReport, lookups: _TickLookups) -> None:
        organisation = lookups.organisation(entry.tenant_id)
        endpoint = lookups.endpoint(entry.tenant_id, entry.endpoint_id)
        if organisation is None or endpoint is None:
            report.skip("endpoint removed")
            return
        index = self.tables.data(organisation, ReminderIndexRepository)
        row = f"{entry.endpoint_id}|{entry.appointment_key}"
        appointments = self.tables.data(organisation, AppointmentRepository)
        try:
            stored = appointments.get_versioned(entry.endpoint_id, entry.appointment_key)
        except NotFound:
            report.skip("appointment removed")
            index.delete(entry.minute, row)
            return
        appointment = stored.item
        reason = self._reason_not_to_send(appointment, entry, now)
        if reason:
            report.skip(reason)
            index.delete(entry.minute, row)
            return
        # The claim: only one instance can clear the due time of this version of the appointment.
        claimed = appointment.model_copy(update={"reminder_due_at": None})
        try:
            appointments.replace(claimed, stored.etag)
        except Conflict:
            report.skip("claimed by another instance")
            return
        try:
            self.sms.send(
                organisation=organisation,
                endpoint=endpoint,
                appointment=claimed,
                kind="reminder",
                settings=lookups.settings(entry.tenant_id, entry.endpoint_id),
            )
            report.sent += 1
        finally:
            index.delete(entry.minute, row)

    def _reason_not_to_send(self, appointment: Appointment, entry: ReminderDue, now: datetime) -> str | None:
        if appointment.reminder_due_at != entry.due_at:
            return "moved or already sent"
        if appointment.status != AppointmentStatus.BOOKED:
            return appointment.status.value
        if appointment.start <= now:
            return "started"
        if now - entry.due_at > self.max_late:
            return "stale"
        return None
