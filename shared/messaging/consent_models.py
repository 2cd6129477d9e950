"""The SMS consents an organisation gives before any text goes (portal, control plane)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

ConsentName = Literal["sms_terms", "patient_messaging"]


CONSENT_TEXT: dict[ConsentName, str] = {
    "sms_terms": (
        "We accept the SMS terms and charges of Azure Communication Services for this organisation, including "
        "its phone numbers' monthly fees, and will not resell those numbers."
    ),
    "patient_messaging": "Patients have agreed to receive appointment text messages from us.",
}


class Consent(BaseModel):
    tenant_id: str
    name: ConsentName
    accepted_by: str
    accepted_at: datetime


class ConsentPublic(BaseModel):
    name: ConsentName
    text: str
    accepted_by: str | None
    accepted_at: datetime | None


class ConsentList(BaseModel):
    items: list[ConsentPublic]
    complete: bool = Field(description="Both consents are given: SMS features can be used.")
