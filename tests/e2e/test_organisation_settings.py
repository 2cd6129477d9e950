"""The organisation's settings page (issue 32 item 9), at 1280 and 375 px: an admin changes the name, time zone and
the patients' default language while the geography can still move; the approver (the EHR analyst) changes them too
once endpoints exist, and the page says why the geography no longer moves."""

from __future__ import annotations

from playwright.sync_api import expect

from dev.fakes.sandbox_ehr import SandboxEhr
from tests.e2e.conftest import OpenPortal
from tests.support.portal import APPROVER, Tenant, approved_endpoint


def test_an_admin_and_the_approver_change_the_settings(
    portal_for: OpenPortal, tenant: Tenant, sandbox: SandboxEhr
) -> None:
    admin = portal_for(tenant, width=1280)
    admin.sign_in()
    admin.page.get_by_role("link", name="Settings").click()
    page = admin.page
    expect(page.get_by_label("Geography")).to_be_enabled()
    expect(page.get_by_text("It cannot move once you add a FHIR endpoint")).to_be_visible()
    admin.assert_usable()
    page.get_by_label("Organisation name").fill("North Clinic East")
    page.get_by_label("Time zone").fill("America/Chicago")
    page.get_by_label("Patients' default language").select_option("es_US")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".who-roles")).to_contain_text("North Clinic East")
    expect(page.get_by_label("Patients' default language")).to_have_value("es_US")
    organisation = tenant.call("GET", "portal/organisation").json()
    assert (organisation["time_zone"], organisation["default_locale"]) == ("America/Chicago", "es_US")

    # A country this connector does not text in: the reason next to the field.
    page.get_by_label("SMS country").fill("CA")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("not allowed on this connector (allowed: US)")).to_be_visible()
    admin.assert_usable()

    approved_endpoint(tenant, sandbox)
    analyst = portal_for(tenant, width=375)
    analyst.sign_in(APPROVER, admin=False, approver=True)
    analyst.go("settings")
    phone = analyst.page
    expect(phone.get_by_label("Geography")).to_be_disabled()
    expect(phone.get_by_text("the geography cannot move once FHIR endpoints exist")).to_be_visible()
    analyst.assert_usable()
    analyst.shot("organisation-settings-375")
    phone.get_by_label("Time zone").fill("America/New_York")
    phone.get_by_role("button", name="Save settings").click()
    expect(phone.get_by_role("status").filter(has_text="Settings saved")).to_have_count(1)
    assert tenant.call("GET", "portal/organisation").json()["time_zone"] == "America/New_York"
    audit = tenant.call("GET", "portal/audit", params={"action": "update"}).json()["items"]
    assert audit[0]["email"] == APPROVER and audit[0]["fields"] == ["time_zone"]
