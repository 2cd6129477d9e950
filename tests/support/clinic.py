"""A clinic for tests through the real app: an approved endpoint with an HL7 signing certificate and texts on
(consents given, a number acquired); `deliver` posts a signed SIU message and runs the queues."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from dev.fakes.sandbox_ehr import SandboxEhr
from tests.conftest import AppHost
from tests.support.certs import certificate, pem, rsa_key, sign
from tests.support.portal import Tenant, acquire_number, approved_endpoint, problem

KEY = rsa_key()
CERT = certificate(KEY)
PHONE = "+12175550123"


@dataclass
class Clinic:
    tenant: Tenant
    endpoint: str
    start: datetime
    sender: str


@pytest.fixture
def clinic(app: AppHost, tenant: Tenant, sandbox: SandboxEhr) -> Clinic:
    endpoint = approved_endpoint(tenant, sandbox)
    assert tenant.call("PUT", "portal/certificates/test", json={"certificate": pem(CERT).decode()}).status_code == 200
    settings = {"clinic_name": "North Clinic", "reminder_minutes_before": 60}
    problem(tenant.call("PUT", f"portal/endpoints/{endpoint}/sms-settings", json=settings), 409)  # consents first
    sender = acquire_number(tenant, app.pump)
    assert tenant.call("GET", "portal/sms/consents").json()["complete"] is True
    settings["sender_number"] = sender
    assert tenant.call("PUT", f"portal/endpoints/{endpoint}/sms-settings", json=settings).status_code == 200
    start = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    return Clinic(tenant, endpoint, start, sender)


def deliver(app: AppHost, clinic: Clinic, body: bytes) -> None:
    answer = httpx.post(
        f"{app.server.url}/api/hl7/{clinic.endpoint}",
        content=body,
        headers={"Content-Type": "application/hl7-v2", "HL7-Signature": sign(KEY, body)},
    )
    assert answer.status_code == 200, answer.text
    app.pump()
