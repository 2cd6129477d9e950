"""The audit log: who changed what, when. Field names only, never values."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class AuditEntryPublic(BaseModel):
    id: str
    at: datetime
    user_id: str
    action: str
    entity: str
    entity_id: str
    fields: list[str] = []


class AuditEntry(AuditEntryPublic):
    """A stored entry: the public one and its organisation."""

    tenant_id: str


class AuditPage(BaseModel):
    items: list[AuditEntryPublic]
    continuation: str | None
