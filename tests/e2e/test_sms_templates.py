"""The template editor says what each text costs at its longest: SMS segments and encoding, on a desktop and a
phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from dev.fakes.sandbox_ehr import SandboxEhr
from tests.e2e.conftest import OpenPortal
from tests.support.portal import Tenant, pending_endpoint


@pytest.mark.parametrize("width", [1280, 375])
def test_the_editor_shows_segments_and_encoding(
    portal_for: OpenPortal, tenant: Tenant, sandbox: SandboxEhr, width: int
) -> None:
    endpoint = pending_endpoint(tenant, sandbox)
    for consent in ("sms_terms", "patient_messaging"):
        assert tenant.call("POST", f"portal/sms/consents/{consent}").status_code == 200
    portal = portal_for(tenant, width=width)
    portal.sign_in()
    portal.go("sms")
    page = portal.page
    settings = page.locator("form.sms-settings")
    cancelled = settings.locator("[data-segments=cancelled]")
    expect(cancelled).to_contain_text("Enter the clinic name")  # nothing to measure yet
    settings.get_by_label("Clinic name in texts").fill("North Clinic")
    expect(cancelled).to_have_text(re.compile(r"^At its longest: 1 SMS segment, \d+ characters, GSM-7\.$"))
    expect(settings.locator("[data-segments=scheduled]")).to_contain_text("2 SMS segments")  # the link is long
    page.get_by_text("Wording of the texts").click()
    reminder = settings.get_by_label("Reminder", exact=True)
    reminder.fill("{clinic}: su cita es el {date} a las {time}. Únase aquí: {link}")
    expect(settings.locator("[data-segments=reminder]")).to_contain_text("UCS-2: a character outside GSM-7")
    expect(cancelled).to_contain_text("GSM-7.")  # the others keep theirs
    # Spanish-speaking patients' wording: the shipped translation until the admin writes their own, previewed.
    spanish = settings.locator("[data-preview=es_US-cancelled]")
    expect(spanish).to_contain_text(
        re.compile(r"^North Clinic: su consulta por video del .+ p\.m\. C[SD]T fue cancelada")
    )
    expect(settings.locator("[data-segments=es_US-cancelled]")).to_contain_text("UCS-2")
    settings.get_by_label("Reminder (Spanish)", exact=True).fill(
        "{clinic}: le esperamos el {date} a las {time}: {link}"
    )
    expect(settings.locator("[data-preview=es_US-reminder]")).to_contain_text("North Clinic: le esperamos el ")
    expect(settings.locator("[data-preview=reminder]")).to_contain_text("North Clinic: su cita es el ")
    # The reminders' link can open the device test first.
    device_check = settings.get_by_label("The reminders' link opens the device test first")
    expect(device_check).not_to_be_checked()
    device_check.check()
    settings.get_by_role("button", name="Save SMS settings").click()
    expect(page.get_by_text("SMS settings saved")).to_be_attached()
    saved = tenant.call("GET", f"portal/endpoints/{endpoint}/sms-settings").json()
    assert saved["device_check_first"] is True
    portal.assert_usable()
    portal.shot(f"sms-template-segments-{width}")
