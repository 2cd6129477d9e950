"""HL7 over HTTP through the real app: certificate upload in the portal, then signed SIU messages in."""

from __future__ import annotations

import json
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import BinaryBase64DecodePolicy, QueueClient
from cryptography.hazmat.primitives import serialization

from dev.fakes.sandbox_ehr import SandboxEhr
from shared.core.settings import Settings
from shared.runtime import Runtime, get_runtime
from shared.setup.models import EndpointStatus, FhirEndpoint
from shared.setup.tables import FhirEndpointRepository
from shared.smart.discovery import SmartConfiguration
from tests.support.certs import certificate, pem, rsa_key, sign
from tests.support.clock import FakeClock
from tests.support.portal import Tenant, approved_endpoint, problem

SAMPLES = Path(__file__).parents[1] / "fixtures" / "hl7"
KEY = rsa_key()
CERT = certificate(KEY)


def fresh(name: str) -> bytes:
    """A sample with MSH-7 set to now, as a live feed sends it."""
    body = (SAMPLES / f"{name}.hl7").read_bytes()
    return re.sub(
        rb"\|20250314093000-0500\|", b"|" + datetime.now(UTC).strftime("%Y%m%d%H%M%S+0000").encode() + b"|", body
    )


def with_msh7(body: bytes, value: str) -> bytes:
    fields = body.split(b"\r", 1)[0].split(b"|")
    fields[6] = value.encode()
    return b"|".join(fields) + b"\r" + body.split(b"\r", 1)[1]


def queued_by_account(environment: dict[str, str], endpoint_id: str) -> dict[str, list[dict[str, str]]]:
    """The endpoint's messages on the scheduling queues of every storage account (old and new queue names)."""
    found: dict[str, list[dict[str, str]]] = {}
    for setting in ("AzureWebJobsStorage", "DATA_STORAGE_US", "DATA_STORAGE_EU", "DATA_STORAGE_APAC"):
        for queue in ("hl7-inbound", "hl7-appointments"):
            client = QueueClient.from_connection_string(
                environment[setting], queue, message_decode_policy=BinaryBase64DecodePolicy()
            )
            try:
                messages = [json.loads(m.content) for m in client.peek_messages(max_messages=32)]
            except ResourceNotFoundError:
                continue
            mine = [m for m in messages if m["endpoint_id"] == endpoint_id]
            if mine:
                found.setdefault(setting, []).extend(mine)
    return found


def queued(environment: dict[str, str], endpoint_id: str) -> list[dict[str, str]]:
    return [m for messages in queued_by_account(environment, endpoint_id).values() for m in messages]


@pytest.fixture
def endpoint(tenant: Tenant, sandbox: SandboxEhr) -> str:
    endpoint_id = approved_endpoint(tenant, sandbox)
    uploaded = tenant.call("PUT", "portal/certificates/test", json={"certificate": pem(CERT).decode()})
    assert uploaded.status_code == 200, uploaded.text
    return endpoint_id


def post(http: httpx.Client, endpoint_id: str, body: bytes, signature: str | None = None) -> httpx.Response:
    """Signed with KEY unless `signature` is given; an empty signature sends no header at all."""
    headers = {"Content-Type": "application/hl7-v2; charset=utf-8"}
    signature = sign(KEY, body) if signature is None else signature
    if signature:
        headers["HL7-Signature"] = signature
    return http.post(f"/api/hl7/{endpoint_id}", content=body, headers=headers)


def test_certificate_upload_shows_thumbprint_and_refuses_private_keys(tenant: Tenant) -> None:
    uploaded = tenant.call("PUT", "portal/certificates/prod", json={"certificate": pem(CERT).decode()}).json()
    assert len(uploaded["thumbprint"]) == 40 and uploaded["subject"] == "CN=EPIC HL7 signing"
    private = KEY.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    body = problem(tenant.call("PUT", "portal/certificates/test", json={"certificate": private}), 422)
    assert body["errors"][0]["field"] == "certificate" and "private key" in body["detail"]
    small = pem(certificate(rsa_key(1024))).decode()
    assert (
        "1024 bits"
        in problem(tenant.call("PUT", "portal/certificates/test", json={"certificate": small}), 422)["detail"]
    )
    listed = tenant.call("GET", "portal/certificates").json()["items"]
    assert [c["environment"] for c in listed] == ["prod"]  # nothing stored for the refused uploads
    problem(tenant.as_approver("PUT", "portal/certificates/test", json={"certificate": pem(CERT).decode()}), 403)


def test_signed_siu_is_queued_then_acknowledged(http: httpx.Client, endpoint: str, environment: dict[str, str]) -> None:
    answer = post(http, endpoint, fresh("S12"))
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("application/hl7-v2")
    assert answer.text.split("\r")[1] == "MSA|AA|MSG0001"
    by_account = queued_by_account(environment, endpoint)
    assert list(by_account) == ["DATA_STORAGE_EU"]  # the organisation's geography only
    [change] = by_account["DATA_STORAGE_EU"]
    assert (change["control_id"], change["event"], change["status"]) == ("MSG0001", "S12", "booked")
    body = json.dumps(change)
    for identifying in ("Doe", "Jane", "19800101", "E100200", "778899001", "jane.doe", "MSH|"):
        assert identifying not in body  # no name, date of birth, MRN, visit number or raw message
    assert change["phone_sealed"] is None  # the endpoint sends no texts: the number is not queued either


def test_mllp_framed_and_newline_separated_messages_are_accepted(http: httpx.Client, endpoint: str) -> None:
    body = b"\x0b" + fresh("S15").replace(b"\r", b"\n") + b"\x1c\r"
    assert post(http, endpoint, body).text.split("\r")[1] == "MSA|AA|MSG0004"


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("no signature", "missing"),
        ("other key", "does not match"),
        ("tampered", "does not match"),
        ("not SIU", "Only SIU"),
        ("truncated", "SIU"),
        ("garbage", "MSH"),
        ("stale", "older than"),
        ("no MSH-7", "MSH-7 (message time) is missing"),
        ("MSH-7 in year 1", "MSH-7 (message time) is missing"),
        ("MSH-7 in year 9999", "MSH-7 (message time) is missing"),
        ("MSH-7 ten minutes ahead", "in the future"),
        ("start in year 1", "no start time"),
    ],
)
def test_rejected_messages_get_ar_and_are_not_queued(
    http: httpx.Client, endpoint: str, environment: dict[str, str], case: str, reason: str
) -> None:
    body = fresh("S14")
    signature = sign(KEY, body)
    if case == "no signature":
        signature = ""
    elif case == "other key":
        signature = sign(rsa_key(), body)
    elif case == "tampered":
        body = body.replace(b"5550123", b"5550124")
    elif case == "not SIU":
        body = body.replace(b"SIU^S14^SIU_S12", b"ADT^A08^ADT_A01")
        signature = sign(KEY, body)
    elif case == "truncated":
        body = body[:40]
        signature = sign(KEY, body)
    elif case == "garbage":
        body = bytes(range(256))
        signature = sign(KEY, body)
    elif case == "stale":
        body = (SAMPLES / "S14.hl7").read_bytes()
        signature = sign(KEY, body)
    elif case.startswith("MSH-7") or case == "no MSH-7":
        ahead = (datetime.now(UTC) + timedelta(minutes=10)).strftime("%Y%m%d%H%M%S+0000")
        value = {"no MSH-7": "", "MSH-7 in year 1": "00010101", "MSH-7 in year 9999": "99991231235959-1200"}
        body = with_msh7(body, value.get(case, ahead))
        signature = sign(KEY, body)
    elif case == "start in year 1":
        body = re.sub(rb"\d{14}-0500", b"00010101", body)  # every time but MSH-7 (now, in UTC)
        signature = sign(KEY, body)
    answer = post(http, endpoint, body, signature)
    assert answer.status_code == 400
    msa = answer.text.split("\r")[1]
    assert msa.startswith("MSA|AR|") and reason in msa
    assert queued(environment, endpoint) == []


def test_unknown_endpoint_and_oversized_bodies(http: httpx.Client) -> None:
    body = fresh("S12")
    assert post(http, "no-such-endpoint", body).status_code == 400
    assert post(http, "no-such-endpoint", b"x" * (1024 * 1024 + 1), "SHA512withRSA AA==").status_code == 413


def test_no_certificate_for_the_environment_is_ar(tenant: Tenant, sandbox: SandboxEhr, http: httpx.Client) -> None:
    endpoint_id = approved_endpoint(tenant, sandbox)
    answer = post(http, endpoint_id, fresh("S12"))
    assert answer.status_code == 400 and "No HL7 signing certificate" in answer.text
    assert get_runtime().settings.scheduling.hl7_max_age_hours == 24


def test_an_unknown_endpoint_id_is_remembered_for_a_minute(settings: Settings) -> None:
    """A flood of messages for an unknown endpoint costs one table scan a minute, not one per message; IDs that
    are not of our shape cost none."""
    clock = FakeClock(datetime.now(UTC))
    runtime = Runtime(settings, clock=clock)
    ingest = runtime.scheduling.hl7_ingest
    endpoint_id = secrets.token_hex(8)

    def reason() -> str:
        body = fresh("S12")
        answer = ingest.receive(endpoint_id, body, content_type="application/hl7-v2", signature=sign(KEY, body))
        assert answer.code == "AR"
        return answer.body.split("\r")[1]

    assert "not configured" in reason()
    now = clock.now()
    discovery = SmartConfiguration(
        source="smart-configuration", authorization_endpoint="https://e.example/a", token_endpoint="https://e.example/t"
    )
    runtime.platform.tables.control(FhirEndpointRepository).create(
        FhirEndpoint(
            tenant_id=str(uuid.uuid4()),
            id=endpoint_id,
            base_url="https://e.example/fhir",
            environment="test",
            approver="a@x.org",
            time_zone="UTC",
            vendor="epic",
            client_id="c",
            status=EndpointStatus.APPROVED,
            discovery=discovery,
            created_at=now,
            created_by="t",
            updated_at=now,
            updated_by="t",
        )
    )
    assert "not configured" in reason()  # the remembered answer, no scan
    clock.advance(seconds=61)
    assert "No HL7 signing certificate" in reason()  # looked up again: found
    assert "not configured" in ingest.receive("../x", b"", content_type=None, signature=None).body
