"""The audit log's rows, and what the portal reads of them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

AuditAction = Literal[
    "create",
    "update",
    "submit",
    "delete",
    "release_url",
    "validate",
    "approve",
    "reject",
    "upload",
    "consent",
    "order",
    "release",
    "acquired",
    "released",
    "link",
    "unlink",
    "invite",
    "replay",
    "resend",
    "notify_late",
]
"""Every action the audit log records (a test greps the code for them)."""


class AuditEntryPublic(BaseModel):
    id: str
    at: datetime
    user_id: str
    name: str | None = Field(default=None, description="The person's name, as their sign-in gave it at the time.")
    email: str | None = Field(default=None, description="Their e-mail (user name), as their sign-in gave it.")
    action: str
    entity: str
    entity_id: str
    subject: str | None = Field(default=None, description="What it was about at the time, such as a FHIR base URL.")
    environment: str | None = Field(default=None, description="The FHIR endpoint's environment then: test or prod.")
    fields: list[str] = []


class AuditEntry(AuditEntryPublic):  # as stored: with its organisation
    tenant_id: str


class AuditLine(AuditEntryPublic):
    summary: str = Field(description='What was done, in words: "approved https://... for production".')


class AuditPage(BaseModel):
    items: list[AuditLine]
    continuation: str | None


class AuditFilter(BaseModel):
    person: str | None = None
    """An e-mail or a user ID."""
    action: AuditAction | None = None
    since: datetime | None = None
    before: datetime | None = None
