"""An organisation, its FHIR endpoints and their approval, and the EHR's HL7 signing certificates."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from shared.core.settings import Geography
from shared.setup.launch_options import LaunchOptions, LaunchOptionsUpdate
from shared.smart.client import ClientIdentity, ClientType
from shared.smart.discovery import SmartConfiguration


def check_time_zone(value: str) -> str:
    if value not in _zones():
        raise ValueError("must be an IANA time zone such as America/Chicago or Europe/Berlin")
    return value


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())  # read from tzdata on first use, not at import


def _zone_schema(schema: dict[str, Any]) -> None:
    schema["enum"] = sorted(_zones())  # the API document lists them (only when it is built)


PatientLocale = Literal["en_US", "es_US"]
TimeZone = Annotated[str, Field(json_schema_extra=_zone_schema), AfterValidator(check_time_zone)]


class OrganisationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str = Field(min_length=1, max_length=200, description="The organisation's name, as staff know it.")
    geography: Geography = Field(description="Where the organisation's data is stored: US, EU or APAC.")
    time_zone: TimeZone = Field(default="UTC", description="Default IANA time zone for new FHIR endpoints.")
    sms_country: str = Field(default="US", pattern=r"^[A-Z]{2}$", description="Where patients are texted (ISO 3166).")
    default_locale: PatientLocale = Field(default="en_US", description="Patients' language when the EHR sends none.")


class OrganisationUpdate(BaseModel):
    """What an admin or approver changes later; the geography only while the organisation has no FHIR endpoint."""

    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, min_length=1, max_length=200, description="The organisation's name.")
    time_zone: TimeZone | None = Field(default=None, description="Default IANA time zone for new FHIR endpoints.")
    sms_country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$", description="Where patients are texted.")
    default_locale: PatientLocale | None = Field(default=None, description="en_US or es_US.")
    geography: Geography | None = Field(default=None, description="Refused (409) once a FHIR endpoint exists.")


class Organisation(BaseModel):
    tenant_id: str = Field(min_length=1, max_length=64, description="Entra ID tenant ID.")
    display_name: str = Field(min_length=1, max_length=200)
    geography: Geography
    time_zone: str = Field(default="UTC", description="Default IANA time zone for new FHIR endpoints.")
    sms_country: str = Field(default="US", description="Where its patients are texted (ISO 3166).")
    default_locale: PatientLocale = Field(default="en_US", description="Patients' language when the EHR sends none.")
    created_at: datetime
    created_by: str = Field(default="", description="User ID of the admin who created it.")


class OrganisationPublic(BaseModel):
    tenant_id: str
    display_name: str
    geography: Geography
    time_zone: str
    sms_country: str
    default_locale: PatientLocale = "en_US"
    created_at: datetime


# Entra ID's UPN characters (letters, digits, ' . - _ ! # ^ ~), then @ and a domain. Explicit classes, not \s:
# JSON Schema patterns (ECMA-262) and pydantic's (Rust) disagree on what whitespace is.
UPN_PATTERN = r"^[A-Za-z0-9'._!#^~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"


class EndpointStatus(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    VALIDATED = "validated"
    APPROVED = "approved"
    REJECTED = "rejected"


Environment = Literal["test", "prod"]


Vendor = Literal["epic", "smart"]


def check_upn(value: str) -> str:
    return value.lower()  # UPNs compare case-insensitively


Upn = Annotated[
    str,
    Field(max_length=256, pattern=UPN_PATTERN, description="A user principal name, such as analyst@contoso.org."),
    AfterValidator(check_upn),
]


BASE_URL_PATTERN = r"^https?://[^/?#]+"  # then a path; host checks and https outside local runs: 422
CLIENT_TYPE = (
    "How the connector's SMART client authenticates to this EHR: `public` (PKCE only), or `confidential-asymmetric` "
    "(PKCE and a private_key_jwt assertion signed with the organisation's key; register the organisation's JWKS URL, "
    "/api/.well-known/jwks/{tenant ID}, with the EHR for the client)."
)


class FhirEndpointCreate(LaunchOptions):
    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(
        max_length=2000, pattern=BASE_URL_PATTERN, description="The FHIR base URL (the `iss` of launches)."
    )
    environment: Environment = Field(description="test or prod; decides which certificate signs HL7 messages.")
    approver: Upn = Field(description="User principal name of the EHR analyst who approves it.")
    time_zone: TimeZone | None = Field(
        default=None, description="IANA time zone of the EHR's local times (default: the organisation's)."
    )
    vendor: Vendor = Field(default="epic", description="epic, or smart for any other SMART on FHIR EHR.")
    client_id: str = Field(min_length=1, max_length=200, description="The SMART client ID registered with this EHR.")
    client_type: ClientType = Field(default="public", description=CLIENT_TYPE)
    display_name: str | None = Field(default=None, max_length=200)


class FhirEndpointUpdate(LaunchOptionsUpdate):
    """Only the fields given change. Changing anything but the display name needs a new approval."""

    model_config = ConfigDict(extra="forbid")

    base_url: str | None = Field(default=None, max_length=2000, pattern=BASE_URL_PATTERN)
    environment: Environment | None = None
    approver: Upn | None = None
    time_zone: TimeZone | None = None
    vendor: Vendor | None = None
    client_id: str | None = Field(default=None, min_length=1, max_length=200)
    client_type: ClientType | None = Field(default=None, description=CLIENT_TYPE)
    display_name: str | None = Field(default=None, max_length=200)


class FhirEndpoint(LaunchOptions):
    tenant_id: str
    id: str
    base_url: str
    environment: Environment
    approver: str
    time_zone: str
    vendor: Vendor
    client_id: str
    client_type: ClientType = "public"
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

    @property
    def client(self) -> ClientIdentity:
        """The connector's SMART client at this endpoint, as the token exchange authenticates it."""
        return ClientIdentity(self.tenant_id, self.client_id, self.client_type)


class FhirEndpointPublic(LaunchOptions):
    id: str
    base_url: str
    environment: Environment
    approver: str
    time_zone: str
    vendor: Vendor
    client_id: str
    client_type: ClientType
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


class UrlOwner(BaseModel):
    """The organisation whose approval a FHIR base URL belongs to: the first that approved it."""

    base_url: str
    tenant_id: str
    endpoint_id: str
    approved_at: datetime


class RejectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(min_length=1, max_length=1000, description="Why the endpoint is rejected, for the admin.")


class SignInStart(BaseModel):
    authorize_url: str = Field(description="Open this URL in the browser to sign in to the EHR.")
    expires_at: datetime


class CertificateUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    certificate: str = Field(
        min_length=1,
        max_length=20000,
        description="The EHR's HL7 signing certificate (.cer): PEM text, or the Base64 of the DER file.",
    )


class SigningCertificate(BaseModel):
    """The public certificate that verifies the HL7 messages of one environment (control plane)."""

    tenant_id: str
    environment: Environment
    der: bytes
    thumbprint: str
    subject: str
    not_after: datetime
    uploaded_at: datetime
    uploaded_by: str


class SigningCertificatePublic(BaseModel):
    environment: Environment
    thumbprint: str
    subject: str
    not_after: datetime
    uploaded_at: datetime


class CertificateList(BaseModel):
    items: list[SigningCertificatePublic]
