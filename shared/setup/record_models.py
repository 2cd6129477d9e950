"""The integration records an EHR analyst types into the EHR, as the portal reads them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from shared.setup.models import Environment


class IntegrationValue(BaseModel):
    name: str
    value: str


class IntegrationRecord(BaseModel):
    kind: Literal[
        "provider_launch",
        "patient_launch",
        "writeback_client",
        "sms_direct",
        "sms_configuration",
        "device_test",
        "lost_link",
    ]
    title: str
    description: str
    values: list[IntegrationValue]


class IntegrationRecords(BaseModel):
    endpoint_id: str
    base_url: str
    display_name: str | None = None
    environment: Environment = "test"
    records: list[IntegrationRecord]


class IntegrationRecordList(BaseModel):
    environment: Environment
    items: list[IntegrationRecords] = Field(description="Each approved FHIR endpoint of the environment.")
