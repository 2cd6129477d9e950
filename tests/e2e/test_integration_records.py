"""The integration records page (issue 32 item 10), at 1280 px for an admin and 375 px for the approver: one page per
environment with the launch records' scopes and the writeback client, a CSV export, and a print of the values only."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from dev.fakes.sandbox_ehr import SandboxEhr
from tests.e2e.conftest import OpenPortal
from tests.support.portal import APPROVER, Tenant, approved_endpoint


@pytest.mark.parametrize("width", [1280, 375])
def test_records_per_environment_printable_and_exported(
    portal_for: OpenPortal, tenant: Tenant, sandbox: SandboxEhr, width: int
) -> None:
    endpoint_id = approved_endpoint(tenant, sandbox)
    tenant.call("PATCH", f"portal/endpoints/{endpoint_id}", json={"display_name": "North FHIR"})
    assert tenant.call("PUT", f"portal/endpoints/{endpoint_id}/writeback", json={"adapter": "fhir"}).is_success
    person = portal_for(tenant, width=width)
    if width == 375:
        person.sign_in(APPROVER, admin=False, approver=True)  # the EHR analyst reads them as an admin does
    else:
        person.sign_in()
    person.page.get_by_role("link", name="Integration records").click()
    page = person.page
    expect(page.get_by_role("heading", name="Integration records: test")).to_be_visible()
    writeback = page.locator("[data-kind=writeback_client]")
    expect(writeback).to_contain_text("system/AuditEvent.c system/Appointment.ru")
    expect(writeback).to_contain_text(f"/api/.well-known/jwks/{tenant.id}")
    expect(page.locator("[data-kind=provider_launch]")).to_contain_text("launch openid fhirUser")
    person.assert_usable()
    person.shot(f"integration-records-{width}")

    with page.expect_download() as download:
        page.get_by_role("button", name="Export test records (CSV)").click()
    assert download.value.suggested_filename == "integration-records-test.csv"
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert {r["endpoint"] for r in rows} == {"North FHIR"} and any(r["name"] == "JWKS URL" for r in rows)

    # Printed: the values, without the portal's navigation or any button.
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    expect(page.locator("header.top")).to_be_hidden()
    expect(writeback).to_be_visible()
    page.emulate_media(media="screen")

    page.get_by_role("link", name="Production").click()
    expect(page.get_by_role("heading", name="Integration records: production")).to_be_visible()
    expect(page.get_by_text("No production FHIR base URL is approved yet")).to_be_visible()
    person.assert_usable()
