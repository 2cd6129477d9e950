"""The reminder index and its cursor, in the organisation's geography (data plane)."""

from __future__ import annotations

from shared.scheduling.models import ReminderCursor, ReminderDue, index_row
from shared.storage.repository import TableRepository


class ReminderIndexRepository(
    TableRepository[ReminderDue], table="reminderindex", keys=("{minute}", "{endpoint_id}|{appointment_key}")
):
    """Partitioned by the UTC minute a reminder is due, so that a tick reads only what is due."""

    def keys(self, item: ReminderDue) -> tuple[str, str]:
        return item.minute, index_row(item.endpoint_id, item.appointment_key, item.kind)


class ReminderCursorRepository(TableRepository[ReminderCursor], table="remindercursor", keys=("cursor", "{geography}")):
    """The last minute each geography's tick has handled."""
