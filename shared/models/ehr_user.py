"""The only thing stored about an EHR user: their unique ID, and the meeting organizer it maps to."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class EhrUser(BaseModel):
    endpoint_id: str = Field(description="The FHIR endpoint the user signed in through.")
    ehr_user_id: str = Field(description="The EHR's unique ID of the user (fhirUser reference or user ID).")
    organizer_id: str | None = Field(default=None, description="Meeting organizer the user maps to, if any.")
    last_seen_at: datetime
