""" "I lost my link" in a phone-sized browser: the page is in the browser's language, works by keyboard, says
what is wrong next to the field, answers with the same sentence whatever the number, and fits 375 px; the join
page of a link that does not work leads to it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import Browser, expect

from dev.fakes.sandbox_ehr import SandboxEhr
from tests.conftest import AppHost
from tests.e2e.conftest import assert_accessible
from tests.support.portal import Tenant, approved_endpoint
from tests.support.visits import join_link


def test_a_patient_asks_for_their_link_again_by_keyboard(
    browser: Browser, app: AppHost, tenant: Tenant, sandbox: SandboxEhr
) -> None:
    endpoint = approved_endpoint(tenant, sandbox)
    page = browser.new_context(viewport={"width": 375, "height": 740}, locale="en-US").new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    # A link that is not open yet: its join page offers the clinic's lost-link page.
    page.goto(join_link(tenant, endpoint, datetime.now(UTC) + timedelta(hours=3)))
    expect(page.get_by_text("Your visit is not open yet.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Lost your link, or it does not work? Get it again by text.").click()
    expect(page.get_by_role("heading", name="Get your video visit link again")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(page)

    page.keyboard.press("Tab")
    expect(page.get_by_label("Mobile number")).to_be_focused()
    page.keyboard.type("12")
    page.keyboard.press("Enter")
    expect(page.locator("#phone-error")).to_contain_text("This is not a mobile number")
    expect(page.get_by_label("Mobile number")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)

    page.get_by_label("Mobile number").fill("(217) 555-0142")
    page.get_by_role("button", name="Text me the link").click()
    expect(page.get_by_role("status")).to_contain_text("its link is on its way by text")
    assert "/api/join" not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(page)
    assert [p for p in problems if "Failed to load resource" not in p] == []  # the pages' own statuses, a favicon
