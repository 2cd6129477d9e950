"""FHIR endpoints: the EHR base URLs an organisation connects, and their approval state."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from shared.models.organisation import TimeZone
from shared.smart.discovery import SmartConfiguration

_UPN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class EndpointStatus(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    VALIDATED = "validated"
    APPROVED = "approved"
    REJECTED = "rejected"


Environment = Literal["test", "prod"]
Vendor = Literal["epic", "smart"]


def check_upn(value: str) -> str:
    value = value.strip().lower()
    if not _UPN.match(value):
        raise ValueError("must be the approver's user principal name, such as analyst@contoso.org")
    return value


Upn = Annotated[str, Field(max_length=256), AfterValidator(check_upn)]


class FhirEndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(min_length=1, max_length=2000, description="The FHIR base URL (the `iss` of launches).")
    environment: Environment = Field(description="test or prod; decides which certificate signs HL7 messages.")
    approver: Upn = Field(description="User principal name of the EHR analyst who approves it.")
    time_zone: TimeZone | None = Field(
        default=None, description="IANA time zone of the EHR's local times (default: the organisation's)."
    )
    vendor: Vendor = Field(default="epic", description="epic, or smart for any other SMART on FHIR EHR.")
    client_id: str = Field(min_length=1, max_length=200, description="The SMART client ID registered with this EHR.")
    display_name: str | None = Field(default=None, max_length=200)


class FhirEndpointUpdate(BaseModel):
    """Only the fields given change. Changing anything but the display name needs a new approval."""

    model_config = ConfigDict(extra="forbid")

    base_url: str | None = Field(default=None, min_length=1, max_length=2000)
    environment: Environment | None = None
    approver: Upn | None = None
    time_zone: TimeZone | None = None
    vendor: Vendor | None = None
    client_id: str | None = Field(default=None, min_length=1, max_length=200)
    display_name: str | None = Field(default=None, max_length=200)


class FhirEndpoint(BaseModel):
    tenant_id: str
    id: str
    base_url: str
    environment: Environment
    approver: str
    time_zone: str
    vendor: Vendor
    client_id: str
    display_name: str | None = None
    status: EndpointStatus = EndpointStatus.DRAFT
    discovery: SmartConfiguration
    validated_ehr_user: str | None = Field(default=None, description="EHR user ID of the approver's EHR sign-in.")
    validated_at: datetime | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_comment: str | None = None
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


class FhirEndpointPublic(BaseModel):
    id: str
    base_url: str
    environment: Environment
    approver: str
    time_zone: str
    vendor: Vendor
    client_id: str
    display_name: str | None
    status: EndpointStatus
    discovery_source: str = Field(description="Where SMART discovery was found: smart-configuration or metadata.")
    authorization_endpoint: str
    token_endpoint: str
    validated_ehr_user: str | None
    validated_at: datetime | None
    decided_at: datetime | None
    decision_comment: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, endpoint: FhirEndpoint) -> FhirEndpointPublic:
        return cls(
            **endpoint.model_dump(include=set(cls.model_fields) & set(FhirEndpoint.model_fields)),
            discovery_source=endpoint.discovery.source,
            authorization_endpoint=endpoint.discovery.authorization_endpoint,
            token_endpoint=endpoint.discovery.token_endpoint,
        )


class EndpointList(BaseModel):
    items: list[FhirEndpointPublic]


class EndpointUrl(BaseModel):
    """Uniqueness of a base URL within an organisation."""

    tenant_id: str
    base_url: str
    endpoint_id: str


class RejectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(min_length=1, max_length=1000, description="Why the endpoint is rejected, for the admin.")


class SignInStart(BaseModel):
    authorize_url: str = Field(description="Open this URL in the browser to sign in to the EHR.")
    expires_at: datetime


class IntegrationValue(BaseModel):
    name: str
    value: str


class IntegrationRecord(BaseModel):
    kind: Literal["provider_launch", "patient_launch", "sms_direct", "sms_configuration", "device_test"]
    title: str
    description: str
    values: list[IntegrationValue]


class IntegrationRecords(BaseModel):
    endpoint_id: str
    base_url: str
    records: list[IntegrationRecord]
