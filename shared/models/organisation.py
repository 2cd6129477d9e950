"""An organisation: one per Entra ID tenant; its geography decides where its data is stored."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from shared.settings import Geography


class Organisation(BaseModel):
    tenant_id: str = Field(min_length=1, max_length=64, description="Entra ID tenant ID.")
    display_name: str = Field(min_length=1, max_length=200)
    geography: Geography
    time_zone: str = Field(default="UTC", description="Default IANA time zone for new FHIR endpoints.")
    created_at: datetime
