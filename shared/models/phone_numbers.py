"""The organisation's SMS phone numbers, and the jobs that acquire and release them (control plane)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

E164 = r"^\+[1-9][0-9]{6,14}$"
NumberType = Literal["toll_free", "geographic"]
JobKind = Literal["purchase", "release"]
JobStatus = Literal["queued", "searching", "purchasing", "releasing", "succeeded", "failed"]
FINISHED: frozenset[str] = frozenset({"succeeded", "failed"})


class PhoneNumberOrder(BaseModel):
    """What number to acquire. Toll-free numbers suit appointment texts (carriers enforce STOP on them)."""

    model_config = ConfigDict(extra="forbid")

    country_code: str = Field(default="US", pattern=r"^[A-Z]{2}$", description="ISO 3166 country code.")
    number_type: NumberType = "toll_free"
    area_code: str | None = Field(
        default=None, pattern=r"^[0-9]{3}$", description="Only numbers with this area code (optional)."
    )


class PhoneNumber(BaseModel):
    """A number the organisation holds. Which endpoints it sends for is in their SMS settings."""

    tenant_id: str
    number: str
    country_code: str
    number_type: NumberType
    status: Literal["active", "releasing"] = "active"
    monthly_cost: str | None = None
    acquired_at: datetime
    acquired_by: str


class PhoneNumberPublic(BaseModel):
    number: str
    country_code: str
    number_type: NumberType
    status: Literal["active", "releasing"]
    monthly_cost: str | None
    acquired_at: datetime
    linked_endpoint_ids: list[str] = Field(description="The FHIR endpoints whose texts come from this number.")


class PhoneNumberJob(BaseModel):
    """Acquiring (search, then purchase) or releasing a number: minutes of work driven by a queue, resumable
    after a restart from the provider's operation token."""

    tenant_id: str
    id: str
    kind: JobKind
    status: JobStatus = "queued"
    order: PhoneNumberOrder | None = None
    number: str | None = None
    search_id: str | None = None
    monthly_cost: str | None = None
    operation: str | None = Field(default=None, description="The provider's token of the running operation.")
    error: str | None = None
    polls: int = 0
    created_by: str
    created_at: datetime
    updated_at: datetime


class PhoneNumberJobPublic(BaseModel):
    id: str
    kind: JobKind
    status: JobStatus
    done: bool
    number: str | None
    order: PhoneNumberOrder | None
    error: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, job: PhoneNumberJob) -> PhoneNumberJobPublic:
        return cls(done=job.status in FINISHED, **job.model_dump(include=set(cls.model_fields) - {"done"}))


class PhoneNumberList(BaseModel):
    items: list[PhoneNumberPublic]
    jobs: list[PhoneNumberJobPublic] = Field(description="Jobs still running, and those of the last day.")


class PhoneNumberJobMessage(BaseModel):
    """The `phone-number-jobs` queue message: advance this job by one step."""

    tenant_id: str
    job_id: str


class PhoneNumberLinks(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint_ids: list[str] = Field(
        max_length=100,
        description="Every endpoint that should send from this number (others linked to it are unlinked).",
    )
