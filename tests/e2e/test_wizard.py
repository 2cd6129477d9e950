"""The configuration wizard in a browser, as an admin and an EHR analyst use it: organisation, FHIR base URL,
SMS (consents, a number from a job, links, settings, certificate), approval after the EHR sign-in, and the
integration records copied to the clipboard. Also: a rejected approval, and a refused certificate upload."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import FilePayload, Page, expect

from dev.fakes.sandbox_ehr import SandboxEhr
from tests.conftest import CLIENT_ID, AppHost
from tests.e2e.conftest import OpenPortal, Portal, assert_accessible
from tests.support.certs import certificate, der, pem, rsa_key
from tests.support.portal import APPROVER, Tenant, create_endpoint, ehr_sign_in

APPROVER_ROLES = {"admin": False, "approver": True}


def add_endpoint(page: Page, sandbox: SandboxEhr) -> None:
    form = page.locator("form", has=page.get_by_role("heading", name="Add a FHIR base URL"))
    form.get_by_role("textbox", name="FHIR base URL").fill(sandbox.fhir_base)
    form.get_by_label("Environment").select_option("test")
    form.get_by_label("Approver").fill(APPROVER)
    form.get_by_label("SMART client ID").fill(CLIENT_ID)
    form.get_by_label("Display name").fill("North Clinic test EHR")
    form.get_by_role("button", name="Add FHIR base URL").click()


def test_whole_wizard_from_sign_in_to_copying_the_integration_records(
    portal: Portal, portal_for: OpenPortal, ehr: SandboxEhr, app: AppHost
) -> None:
    page = portal.page
    portal.sign_in()
    expect(page.get_by_role("heading", name="Set up your organisation")).to_be_visible()
    portal.assert_usable()
    # By keyboard alone: Tab from the name through geography and time zone, Enter sends the form.
    page.get_by_label("Organisation name").focus()
    page.keyboard.type("North Clinic")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Geography")).to_be_focused()
    page.get_by_label("Geography").select_option("EU")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Time zone")).to_be_focused()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("America/Chicago")
    portal.shot("01-organisation")
    page.keyboard.press("Enter")

    # Step 1: a FHIR base URL. Sent empty first: the API's field errors appear next to their fields.
    expect(page.get_by_role("heading", name="Set up: FHIR base URLs")).to_be_visible()
    created = portal.tenant.call("GET", "portal/organisation").json()
    assert (created["display_name"], created["geography"], created["time_zone"]) == (
        "North Clinic",
        "EU",
        "America/Chicago",
    )
    expect(page.get_by_text("No FHIR base URLs yet")).to_be_visible()
    page.get_by_role("button", name="Add FHIR base URL").click()
    expect(page.get_by_role("alert")).to_contain_text("Some fields are missing or invalid")
    base_url = page.get_by_role("textbox", name="FHIR base URL")
    expect(base_url).to_have_attribute("aria-invalid", "true")
    expect(base_url).to_be_focused()  # keyboard and screen-reader users land on the first field to fix
    expect(page.locator(f"#{base_url.get_attribute('id')}-error")).not_to_be_empty()
    add_endpoint(page, ehr)
    row = page.get_by_role("row", name=re.compile("North Clinic test EHR"))
    expect(row).to_contain_text("Draft")
    expect(page.get_by_role("alert")).to_be_hidden()
    # The form is ready for the next URL with its defaults, the Microsoft 365 sign-in still on.
    expect(page.get_by_label("Clinicians sign in to Microsoft 365 once")).to_be_checked()
    expect(page.get_by_role("textbox", name="FHIR base URL")).to_have_value("")
    assert portal.tenant.call("GET", "portal/endpoints").json()["items"][0]["clinician_sign_in"] is True  # the default
    portal.assert_usable()
    portal.shot("02-fhir-base-urls")

    # Step 2: SMS. Consents, then a number whose job runs on the queue while the page shows its progress.
    page.get_by_role("link", name=re.compile("^Next")).click()
    expect(page.get_by_role("heading", name="Set up: SMS notifications")).to_be_visible()
    expect(page.get_by_text("Give both consents first.").first).to_be_visible()
    page.get_by_role("button", name="Give consent").click()
    expect(page.get_by_role("alert").first).to_contain_text("Both consents are needed")
    page.get_by_label(re.compile("We accept the SMS terms")).check()
    page.get_by_label(re.compile("Patients have agreed")).check()
    page.get_by_role("button", name="Give consent").click()
    expect(page.get_by_text("Both consents are given.")).to_be_visible()
    page.get_by_role("button", name="Generate a phone number").click()
    expect(page.get_by_text("Acquiring a phone number: Waiting to start")).to_be_visible()
    expect(page.get_by_role("progressbar", name="Progress")).to_be_visible()
    app.pump()
    expect(page.get_by_text(re.compile(r"\+1\d+ is ready\."))).to_be_visible()
    number = page.locator(".number h3").first.inner_text().split()[0]
    page.get_by_role("checkbox", name="North Clinic test EHR").check()
    page.get_by_role("button", name="Save links").click()
    expect(page.locator("#announcer")).to_have_text(f"Links of {number} saved")

    settings = page.locator("form.sms-settings")
    expect(settings.get_by_label("Send from")).to_have_value(number)  # linking chose the sender
    settings.get_by_label("Clinic name in texts").fill("North Clinic")
    settings.get_by_label("Reminder, minutes before the visit").fill("120")
    settings.get_by_label("A two-question survey after the visit").check()
    settings.get_by_role("button", name="Save SMS settings").click()
    expect(page.locator("#announcer")).to_have_text("SMS settings saved")
    page.reload()
    expect(page.locator("form.sms-settings").get_by_label("A two-question survey after the visit")).to_be_checked()
    page.set_viewport_size({"width": 375, "height": 900})  # the SMS settings on a phone, the survey switch among them
    portal.assert_usable()
    assert_accessible(page)
    page.set_viewport_size({"width": 1200, "height": 900})

    signing = certificate(rsa_key(), not_after=datetime.now(UTC) + timedelta(days=400))
    test_card = page.locator("form.certificate[data-environment=test]")
    test_card.get_by_label("Test certificate file (.cer)").set_input_files(
        files=FilePayload(name="epic-test.cer", mimeType="application/pkix-cert", buffer=pem(signing))
    )
    test_card.get_by_role("button", name="Upload the test certificate").click()
    thumbprint = hashlib.sha1(der(signing)).hexdigest().upper()  # noqa: S324 - the certificate's thumbprint
    test_card = page.locator("form.certificate[data-environment=test]")
    expect(test_card.locator(".thumbprint")).to_have_text(thumbprint)
    expect(test_card.locator(".expiry")).not_to_have_text("—")
    portal.assert_usable()
    portal.shot("03-sms")

    # Step 3: submitted for approval; the admin sees who must approve.
    page.get_by_role("link", name=re.compile("^Next")).click()
    expect(page.get_by_role("heading", name="Set up: Approve")).to_be_visible()
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_text(f"Waiting for {APPROVER} to sign in to the EHR")).to_be_visible()
    portal.shot("04-approve-submitted")

    # The analyst signs in to the portal, then to the EHR, and approves.
    analyst = portal_for(portal.tenant)
    analyst.sign_in(APPROVER, **APPROVER_ROLES)
    expect(analyst.page.get_by_role("heading", name="FHIR endpoints")).to_be_visible()
    analyst.page.get_by_role("link", name="North Clinic test EHR").click()
    expect(analyst.page.get_by_role("button", name="Approve")).to_be_disabled()
    analyst.page.get_by_role("button", name="Sign in to the EHR").click()
    expect(analyst.page).to_have_url(re.compile(r"#/endpoints/[\w-]+\?signin=ok$"))
    expect(analyst.page.get_by_role("status").filter(has_text="EHR sign-in accepted as")).to_be_visible()
    analyst.shot("05-approver-signed-in-to-the-ehr")
    analyst.page.get_by_role("button", name="Approve").click()
    expect(analyst.page.get_by_role("heading", level=1)).to_contain_text("Approved")
    analyst.shot("06-approved")

    # Step 4: every record, each value with a copy button that puts exactly that value on the clipboard.
    page.reload()
    page.get_by_role("link", name=re.compile("^Next")).click()
    expect(page.get_by_role("heading", name="Set up: Review and finish")).to_be_visible()
    records = portal.tenant.call("GET", "portal/endpoints").json()["items"][0]["id"]
    expected = portal.tenant.call("GET", f"portal/endpoints/{records}/integration-records").json()["records"]
    kinds = page.locator("article.record")
    expect(kinds).to_have_count(len(expected))
    for record in expected:
        card = page.locator(f"article.record[data-kind={record['kind']}]")
        expect(card.get_by_role("heading")).to_have_text(record["title"])
        for value in record["values"]:
            button = card.get_by_role("button", name=f"Copy {record['title']}: {value['name']} (", exact=False)
            button.click()
            copied = card.get_by_role("button", name=f"Copied {record['title']}: {value['name']} (", exact=False)
            expect(copied).to_have_text("Copied")
            assert page.evaluate("navigator.clipboard.readText()") == value["value"]
    portal.assert_usable()
    portal.shot("07-review-and-finish")


def test_a_rejected_approval_reaches_the_admin_with_its_comment(
    portal_for: OpenPortal, tenant: Tenant, ehr: SandboxEhr
) -> None:
    endpoint = create_endpoint(tenant, ehr, display_name="Rejected EHR")
    assert tenant.call("POST", f"portal/endpoints/{endpoint['id']}/submit").status_code == 200

    analyst = portal_for(tenant)
    analyst.sign_in(APPROVER, **APPROVER_ROLES)
    analyst.go(f"endpoints/{endpoint['id']}")
    analyst.page.get_by_role("button", name="Reject", exact=True).click()
    comment = analyst.page.get_by_label("Comment for the admin")
    expect(comment).to_have_attribute("aria-invalid", "true")  # a rejection needs its reason
    comment.fill("This is our test EHR's old URL; use the R4 endpoint.")
    analyst.page.get_by_role("button", name="Reject", exact=True).click()
    expect(analyst.page.get_by_role("heading", level=1)).to_contain_text("Rejected")

    admin = portal_for(tenant)
    admin.sign_in()
    admin.go("setup/approve")
    panel = admin.page.locator("section", has=admin.page.get_by_role("heading", name="Rejected EHR"))
    expect(panel).to_contain_text("Rejected")
    expect(panel).to_contain_text("use the R4 endpoint")
    admin.shot("rejected")
    admin.go(f"endpoints/{endpoint['id']}")
    change = admin.page.locator("section", has=admin.page.get_by_role("heading", name="Change"))
    change.get_by_label("SMART client ID").fill("connector-r4")
    change.get_by_role("button", name="Save changes").click()
    expect(admin.page.get_by_role("heading", level=1)).to_contain_text("Waiting for approval")


def test_a_refused_certificate_upload_shows_why_and_keeps_nothing(portal_for: OpenPortal, tenant: Tenant) -> None:
    admin = portal_for(tenant, width=375)
    admin.sign_in()
    admin.go("sms")
    card = admin.page.locator("form.certificate[data-environment=prod]")
    expired = certificate(
        rsa_key(), not_before=datetime(2020, 1, 1, tzinfo=UTC), not_after=datetime(2021, 1, 1, tzinfo=UTC)
    )
    card.get_by_label("Production certificate file (.cer)").set_input_files(
        files=FilePayload(name="old.cer", mimeType="application/pkix-cert", buffer=pem(expired))
    )
    card.get_by_role("button", name="Upload the prod certificate").click()
    alert = card.get_by_role("alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("expired on 2021-01-01")
    expect(card.get_by_label("Production certificate file (.cer)")).to_have_attribute("aria-invalid", "true")
    expect(alert).not_to_contain_text("null")
    expect(card).to_contain_text("None uploaded")
    admin.assert_usable()
    admin.shot("certificate-refused")
    assert tenant.call("GET", "portal/certificates").json()["items"] == []


@pytest.mark.parametrize("width", [1280, 375])
def test_finish_says_what_is_still_missing_until_a_url_is_approved(
    portal_for: OpenPortal, tenant: Tenant, sandbox: SandboxEhr, width: int
) -> None:
    pending = create_endpoint(tenant, sandbox, display_name="North Clinic test EHR")["id"]
    portal = portal_for(tenant, width=width)
    portal.sign_in(approver=True)
    portal.go("setup/review")
    page = portal.page
    page.get_by_role("button", name="Finish").click()
    missing = page.get_by_role("alert")
    expect(missing).to_contain_text("Not finished yet")
    expect(missing).to_contain_text("No FHIR base URL is approved, so no visit can start yet.")
    expect(missing).to_contain_text("North Clinic test EHR is not approved yet (draft): submit it for approval.")
    expect(missing.get_by_role("link", name="Go to FHIR base URLs")).to_have_attribute("href", "#/setup/endpoints")
    portal.assert_usable()
    portal.shot("finish-says-what-is-missing")

    assert tenant.call("POST", f"portal/endpoints/{pending}/submit").status_code == 200
    callback, _ = ehr_sign_in(tenant, pending)
    assert callback.status_code == 302
    assert tenant.as_approver("POST", f"portal/endpoints/{pending}/approve").status_code == 200
    page.get_by_role("button", name="Finish").click()
    expect(page).to_have_url(re.compile("#/reports$"))
