"""The reminder index and its cursor, in the organisation's geography (data plane)."""

from __future__ import annotations

from shared.scheduling.models import ReminderCursor, ReminderDue
from shared.storage.repository import TableRepository


class ReminderIndexRepository(
    TableRepository[ReminderDue], table="reminderindex", keys=("{minute}", "{endpoint_id}|{appointment_key}")
):
    """Partitioned by the UTC minute a reminder is due, so that a tick reads only what is due."""


class ReminderCursorRepository(TableRepository[ReminderCursor], table="remindercursor", keys=("cursor", "{geography}")):
    """The last minute each geography's tick has handled."""
