"""An admin sets one to three reminders per URL in the SMS settings form, on a phone; two at the same time are
refused with a message saying what to change."""

from __future__ import annotations

from playwright.sync_api import expect

from dev.fakes.sandbox_ehr import SandboxEhr
from tests.e2e.conftest import OpenPortal, assert_accessible
from tests.support.portal import Tenant, pending_endpoint


def test_an_admin_sets_three_reminders_at_375_px(portal_for: OpenPortal, tenant: Tenant, sandbox: SandboxEhr) -> None:
    endpoint = pending_endpoint(tenant, sandbox)
    for consent in ("sms_terms", "patient_messaging"):
        assert tenant.call("POST", f"portal/sms/consents/{consent}").status_code == 200
    portal = portal_for(tenant, width=375)
    portal.sign_in()
    portal.go("sms")
    page = portal.page
    settings = page.locator("form.sms-settings")
    settings.get_by_label("Clinic name in texts").fill("North Clinic")
    settings.get_by_label("Reminder, minutes before the visit").fill("1440")
    settings.get_by_label("Second reminder, minutes before (optional)").fill("1440")
    settings.get_by_role("button", name="Save SMS settings").click()
    expect(settings.get_by_role("alert")).to_contain_text("Two reminders are set for the same time")
    settings.get_by_label("Second reminder, minutes before (optional)").fill("120")
    settings.get_by_label("Third reminder, minutes before (optional)").fill("10")
    page.get_by_text("Wording of the texts").click()
    settings.get_by_label("Third reminder", exact=True).fill("{clinic}: starting in ten minutes: {link}")
    settings.get_by_role("button", name="Save SMS settings").click()
    expect(page.locator("#announcer")).to_have_text("SMS settings saved")
    saved = tenant.call("GET", f"portal/endpoints/{endpoint}/sms-settings").json()
    assert [saved[f"reminder{n}_minutes_before"] for n in ("", "2", "3")] == [1440, 120, 10]
    assert saved["templates"]["reminder3"] == "{clinic}: starting in ten minutes: {link}"
    portal.assert_usable()
    assert_accessible(page)
    portal.shot("sms-three-reminders-375")


def test_an_admin_sets_the_clinic_phone_and_the_confirmation_answer_at_375_px(
    portal_for: OpenPortal, tenant: Tenant, sandbox: SandboxEhr
) -> None:
    endpoint = pending_endpoint(tenant, sandbox)
    for consent in ("sms_terms", "patient_messaging"):
        assert tenant.call("POST", f"portal/sms/consents/{consent}").status_code == 200
    portal = portal_for(tenant, width=375)
    portal.sign_in()
    portal.go("sms")
    page = portal.page
    settings = page.locator("form.sms-settings")
    settings.get_by_label("Clinic name in texts").fill("North Clinic")
    settings.get_by_label("Clinic phone number").fill("217 555 0100")
    settings.get_by_role("button", name="Save SMS settings").click()
    expect(settings.get_by_role("alert")).to_be_visible()  # not E.164: the form says so, nothing is saved
    settings.get_by_label("Clinic phone number").fill("+12175550100")
    expect(settings.get_by_label("Answer a reply C or YES (SÍ) by confirming the next visit")).to_be_checked()
    page.get_by_text("Wording of the texts").click()
    answer = settings.get_by_label("Answer to a confirmation (C or YES)", exact=True)
    answer.fill("{clinic}: see you on {date} at {time}.")
    expect(settings.locator("[data-preview=confirmed]")).to_contain_text("North Clinic: see you on ")
    expect(settings.locator("[data-preview=es_US-confirmed]")).to_contain_text("está confirmada")
    settings.get_by_role("button", name="Save SMS settings").click()
    expect(page.locator("#announcer")).to_have_text("SMS settings saved")
    saved = tenant.call("GET", f"portal/endpoints/{endpoint}/sms-settings").json()
    assert saved["clinic_phone"] == "+12175550100" and saved["confirm_by_reply"] is True
    assert saved["templates"]["confirmed"] == "{clinic}: see you on {date} at {time}."
    portal.assert_usable()
    assert_accessible(page)
    portal.shot("sms-replies-375")
