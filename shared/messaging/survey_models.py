"""Post-visit surveys: one per appointment, two answers and nothing else (no free text, so no health information),
kept with the appointment key only: no number, no name."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from shared.storage.repository import TableRepository


class VisitSurvey(BaseModel):
    """A survey texted after a visit's call ended (data plane, the organisation's geography)."""

    tenant_id: str
    endpoint_id: str
    appointment_key: str
    department_id: str | None = Field(default=None, description="As the EHR's launch of the visit named it.")
    locale: str | None = Field(default=None, description="The language its page speaks.")
    sent_at: datetime
    closes_at: datetime
    answered_at: datetime | None = None
    rating: int | None = Field(default=None, ge=1, le=5, description="How was the video visit, 1 to 5.")
    again: bool | None = Field(default=None, description="Would choose a video visit again.")


class VisitSurveyRepository(
    TableRepository[VisitSurvey], table="visitsurveys", keys=("{endpoint_id}", "{appointment_key}")
):
    """Surveys by endpoint, then appointment key: one per appointment, so a second text or answer finds it."""
