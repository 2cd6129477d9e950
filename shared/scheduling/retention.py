"""Retention: an appointment's phone number is deleted once the appointment has taken place, and an invite's once
its link has stopped working."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shared.core.clock import Clock
from shared.core.errors import Conflict, NotFound
from shared.core.settings import Geography
from shared.storage.routing import Tables
from shared.visits.tables import AppointmentRepository, VisitInviteRepository

log = logging.getLogger(__name__)


@dataclass(kw_only=True, eq=False)
class PhoneRetention:
    """Phone numbers are kept only until the appointment has ended."""

    tables: Tables
    clock: Clock

    def run(self, geography: Geography) -> int:
        appointments = self.tables.in_geography(geography, AppointmentRepository)
        ended = appointments.iterate(
            query="end lt @now and phone gt @empty", parameters={"now": self.clock.now(), "empty": ""}
        )
        deleted = 0
        for appointment in ended:
            try:
                current = appointments.get_versioned(appointment.endpoint_id, appointment.appointment_key)
                appointments.replace(current.item.model_copy(update={"phone": None}), current.etag)
                deleted += 1
            except (Conflict, NotFound):
                continue  # changed meanwhile: the next run looks again
        invites = self.tables.in_geography(geography, VisitInviteRepository)
        for invite in invites.iterate(
            query="ends_at lt @now and phone gt @empty", parameters={"now": self.clock.now(), "empty": ""}
        ):
            invites.upsert(invite.model_copy(update={"phone": None}))
            deleted += 1
        if deleted:
            log.info("Deleted %d phone numbers of ended appointments and invites in %s", deleted, geography.value)
        return deleted
