"""The portal API's path and query parameters with their constraints, as pydantic models: the registry checks
every request against its route's model (a 400 naming each bad parameter) and the OpenAPI document declares the
same constraints, so the two cannot disagree."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from shared.messaging.consent_models import ConsentName
from shared.messaging.models import E164
from shared.reports.models import PRESETS, VisitOutcome
from shared.setup.audit_models import AuditAction
from shared.setup.models import Environment

EndpointId = Annotated[str, Field(pattern=r"^[0-9a-f]{16}$", description="The FHIR endpoint's ID.")]
Identifier = Annotated[str, Field(min_length=1, max_length=200)]
PhoneNumber = Annotated[str, Field(pattern=E164, description="The phone number, E.164 (+ and digits).")]
OAuthState = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9_-]{16,128}$", description="The single-use state of the sign-in.")
]


def _preset(value: int) -> int:
    if value not in PRESETS:
        raise ValueError("must be 7, 30 or 90")
    return value


def _iso_day(value: object) -> object:
    # pydantic would also take a number of seconds since 1970 ("0"); the document says a date (YYYY-MM-DD)
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("must be a date such as 2026-12-07")
    return value


Day = Annotated[date, BeforeValidator(_iso_day)]
Days = Annotated[int, Field(json_schema_extra={"enum": list(PRESETS)}), AfterValidator(_preset)]


class _Parameters(BaseModel):
    # Built on first use, not when the host imports the app (cold start).
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)


class EndpointPath(_Parameters):
    endpoint_id: EndpointId


class JobPath(_Parameters):
    job_id: Identifier


class NumberPath(_Parameters):
    number: PhoneNumber


class CertificatePath(_Parameters):
    environment: Environment = Field(description="test or prod.")


class RecordsQuery(_Parameters):
    environment: Environment = Field(description="test or prod: one page per environment.")
    format: Literal["json", "csv"] | None = Field(default=None, description="json (default) or csv.")


class ConsentPath(_Parameters):
    name: ConsentName = Field(description="sms_terms or patient_messaging.")


class FailedTextPath(_Parameters):
    endpoint_id: EndpointId
    text_id: Identifier


class FailedWritebackPath(_Parameters):
    event_id: Identifier


class VisitPath(_Parameters):
    appointment_key: str = Field(pattern=r"^[0-9a-f]{40}$", description="The visit's appointment key.")


class AuditQuery(_Parameters):
    continuation: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_=-]{1,1000}$",
        description="The `continuation` of the previous page.",
    )
    person: str | None = Field(
        default=None, pattern=r"^[^\x00-\x1f]{1,200}$", description="Only this person's changes: e-mail or user ID."
    )
    action: AuditAction | None = Field(default=None, description="Only this action.")
    start: Day | None = Field(default=None, description="From this day (the organisation's time zone).")
    end: Day | None = Field(default=None, description="Up to this day, inclusive (the organisation's time zone).")
    format: Literal["json", "csv"] | None = Field(default=None, description="json (default) or csv: every match.")


class ClinicianQuery(EndpointPath):
    continuation: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_=-]{1,1000}$", description="The `continuation` of the previous page."
    )


class ReportQuery(_Parameters):
    days: Days | None = Field(default=None, description="The days up to today (UTC); default 30.")
    start: date | None = Field(default=None, description="First day of a custom range, with end.")
    end: date | None = Field(default=None, description="Last day of a custom range (inclusive), with start.")
    format: Literal["json", "csv"] | None = Field(default=None, description="json (default) or csv.")


class CallQualityQuery(ReportQuery):
    endpoint_id: EndpointId | None = Field(default=None, description="Only visits of this FHIR endpoint.")
    department_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="Only visits of this department (as the EHR names it)."
    )


class VisitReportQuery(CallQualityQuery):
    status: VisitOutcome | None = Field(default=None, description="Only completed, no_show or in_progress visits.")


class BeginQuery(_Parameters):
    state: OAuthState


ERROR_TEXT = r"^[\x20-\x21\x23-\x5B\x5D-\x7E]{{1,{}}}$"  # RFC 6749's error and error_description characters


class CallbackQuery(_Parameters):
    """What an EHR sends back (RFC 6749 4.1.2): the characters the RFC allows, in lengths that keep the URL within
    the Functions host's 4 KB."""

    state: OAuthState
    code: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9._~+/=-]{1,1024}$", description="The EHR's authorization code."
    )
    error: str | None = Field(
        default=None, pattern=ERROR_TEXT.format(64), description="The EHR's error code, when it refused."
    )
    error_description: str | None = Field(
        default=None, pattern=ERROR_TEXT.format(200), description="The EHR's explanation of the error."
    )
