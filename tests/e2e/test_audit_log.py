"""The audit log in the browser (issue 32 item 5), at 1280 and 375 px: who by name and e-mail, what in words,
filters by person, action and days, and the CSV of what the filters show."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from dev.fakes.sandbox_ehr import SandboxEhr
from tests.e2e.conftest import OpenPortal
from tests.support.portal import APPROVER, Tenant, approved_endpoint


@pytest.mark.parametrize("width", [1280, 375])
def test_the_audit_log_reads_as_words_and_filters(
    portal_for: OpenPortal, tenant: Tenant, sandbox: SandboxEhr, width: int
) -> None:
    approved_endpoint(tenant, sandbox)
    admin = portal_for(tenant, width=width)
    admin.sign_in()
    admin.go("audit")
    page = admin.page
    rows = page.locator("table tbody tr")
    approval = rows.filter(has_text=f"approved {sandbox.fhir_base} for test")
    expect(approval).to_contain_text("analyst")
    expect(approval).to_contain_text(APPROVER)
    expect(rows.filter(has_text="set up the organisation")).to_have_count(1)
    admin.assert_usable()
    admin.shot(f"audit-log-{width}")

    page.get_by_label("Action").select_option("create")
    page.get_by_role("button", name="Show").click()
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(f"added the FHIR endpoint {sandbox.fhir_base}")

    page.get_by_label("Action").select_option("approve")
    page.get_by_label("Person").fill(APPROVER)
    page.get_by_role("button", name="Show").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("approved")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    assert download.value.suggested_filename == "audit-log.csv"
    exported = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert [(r["email"], r["action"]) for r in exported] == [(APPROVER, "approve")]

    # Days the wrong way round: the API's reason, shown in the form.
    page.get_by_label("From").fill("2026-12-08")
    page.get_by_label("To (inclusive)").fill("2026-12-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_contain_text("swap them")
    admin.assert_usable()
