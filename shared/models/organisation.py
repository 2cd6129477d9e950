"""An organisation: one per Entra ID tenant; its geography decides where its data is stored."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Annotated
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from shared.settings import Geography


def check_time_zone(value: str) -> str:
    if value not in _zones():
        raise ValueError("must be an IANA time zone such as America/Chicago or Europe/Berlin")
    return value


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())  # read from tzdata on first use, not at import


TimeZone = Annotated[str, AfterValidator(check_time_zone)]


class OrganisationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str = Field(min_length=1, max_length=200, description="The organisation's name, as staff know it.")
    geography: Geography = Field(description="Where the organisation's data is stored: US, EU or APAC.")
    time_zone: TimeZone = Field(default="UTC", description="Default IANA time zone for new FHIR endpoints.")


class Organisation(BaseModel):
    tenant_id: str = Field(min_length=1, max_length=64, description="Entra ID tenant ID.")
    display_name: str = Field(min_length=1, max_length=200)
    geography: Geography
    time_zone: str = Field(default="UTC", description="Default IANA time zone for new FHIR endpoints.")
    created_at: datetime
    created_by: str = Field(default="", description="User ID of the admin who created it.")


class OrganisationPublic(BaseModel):
    tenant_id: str
    display_name: str
    geography: Geography
    time_zone: str
    created_at: datetime
