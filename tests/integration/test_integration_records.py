"""The integration records of one environment (issue 32 item 10): everything the analyst types into the EHR, the
launch records' scopes and token-response parameters, the writeback client (its system/ scopes and the JWKS URL)
where writeback is set; as JSON for the page and as CSV; for admins and approvers."""

from __future__ import annotations

import csv
import io

from dev.fakes.sandbox_ehr import SandboxEhr
from shared.setup.integration_records import LAUNCH_SCOPES
from shared.visits.launch import LAUNCH_SCOPE
from tests.support.portal import Tenant, approved_endpoint, problem


def _values(record: dict[str, object]) -> dict[str, str]:
    return {str(v["name"]): str(v["value"]) for v in record["values"]}  # type: ignore[attr-defined]


def test_one_environment_lists_everything_the_analyst_enters(tenant: Tenant, sandbox: SandboxEhr) -> None:
    assert LAUNCH_SCOPES == LAUNCH_SCOPE  # what the records say is what the launches ask for
    endpoint_id = approved_endpoint(tenant, sandbox)
    before = tenant.call("GET", "portal/integration-records", params={"environment": "test"}).json()
    assert [r["kind"] for r in before["items"][0]["records"]] == [
        "provider_launch",
        "patient_launch",
        "sms_direct",
        "sms_configuration",
        "device_test",
        "lost_link",
    ]  # no writeback client while nothing is written back
    saved = tenant.call("PUT", f"portal/endpoints/{endpoint_id}/writeback", json={"adapter": "fhir"})
    assert saved.status_code == 200, saved.text

    for read in (tenant.call, tenant.as_approver):
        found = read("GET", "portal/integration-records", params={"environment": "test"})
        assert found.status_code == 200, found.text
    body = found.json()
    assert body["environment"] == "test" and [e["endpoint_id"] for e in body["items"]] == [endpoint_id]
    records = {r["kind"]: _values(r) for r in body["items"][0]["records"]}
    provider = records["provider_launch"]
    assert provider["Scopes"] == "launch openid fhirUser" and provider["Client ID"]
    assert provider["Redirect URI"].endswith("/api/launch/callback")
    assert provider["Token response parameters"].startswith("csn=%CSN%")
    assert records["patient_launch"]["Scopes"] == "launch openid fhirUser"
    client = records["writeback_client"]
    assert client["Scopes"] == "system/AuditEvent.c system/Appointment.ru"
    assert client["JWKS URL"].endswith(f"/api/.well-known/jwks/{tenant.id}")
    assert client["Client ID"] == provider["Client ID"]  # none of its own: the endpoint's
    assert records["lost_link"]["Page URL"].endswith(f"/api/lost-link/{endpoint_id}")  # for the clinic's website
    assert tenant.call("GET", "portal/integration-records", params={"environment": "prod"}).json()["items"] == []

    exported = tenant.call("GET", "portal/integration-records", params={"environment": "test", "format": "csv"})
    assert 'filename="integration-records-test.csv"' in exported.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    scopes = {r["record"]: r["value"] for r in rows if r["name"] == "Scopes"}
    assert scopes == {
        "Provider launch record": "launch openid fhirUser",
        "Patient launch record": "launch openid fhirUser",
        "Writeback client (backend services)": "system/AuditEvent.c system/Appointment.ru",
    }
    assert {r["environment"] for r in rows} == {"test"} and {r["fhir_base_url"] for r in rows} == {sandbox.fhir_base}


def test_records_need_a_role_and_an_environment(tenant: Tenant) -> None:
    problem(tenant.call("GET", "portal/integration-records", params={"environment": "test"}, roles=[]), 403)
    problem(tenant.call("GET", "portal/integration-records", params={"environment": "staging"}), 400)
    problem(tenant.call("GET", "portal/integration-records"), 400)
