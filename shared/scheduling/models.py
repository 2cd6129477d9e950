"""Scheduling: the HL7 message queued for the processor, and the reminder index (by due minute) and its cursor."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class InboundHl7(BaseModel):
    """The `hl7-inbound` queue message: a verified message, as received, for the processor to parse."""

    tenant_id: str
    endpoint_id: str
    control_id: str
    received_at: datetime
    message: str


class ReminderDue(BaseModel):
    """Reminder index (data plane): partitioned by the UTC minute it is due, so a tick reads only what is due."""

    minute: str  # YYYYMMDDHHMM
    tenant_id: str
    endpoint_id: str
    appointment_key: str
    due_at: datetime


class ReminderCursor(BaseModel):
    """The last minute a geography's reminder tick has handled."""

    geography: str
    last_minute: str
