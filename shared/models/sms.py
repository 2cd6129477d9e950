"""SMS configuration of an organisation: consents, signing certificates per environment, settings per endpoint."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Environment = Literal["test", "prod"]


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


class InboundHl7(BaseModel):
    """The `hl7-inbound` queue message: a verified message, as received, for the processor to parse."""

    tenant_id: str
    endpoint_id: str
    control_id: str
    received_at: datetime
    message: str
