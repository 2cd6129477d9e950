"""The clinician's visit panel in a phone-sized browser: their EHR launch lands on it (the endpoint says `panel`),
it opens Teams at once and keeps a button for it, shows who is connected within seconds of Graph saying so, and
invites an interpreter by a link to copy.
Nobody else gets it: without the launch's cookie, a page says to start the visit from the EHR."""

from __future__ import annotations

import httpx
from playwright.sync_api import Browser, expect

from dev.fakes.sandbox_ehr import SandboxEhr
from dev.host.serving import ServerThread
from tests.conftest import AppHost, GraphMeetings
from tests.e2e.conftest import assert_accessible
from tests.support.portal import Tenant, approved_endpoint
from tests.support.visits import follow_join_link
from tests.support.writeback import FOLLOW_UP, PATIENT, clinician, roster


def test_the_clinician_lands_on_the_panel_and_sees_who_joins(
    browser: Browser,
    tenant: Tenant,
    ehr: SandboxEhr,
    app: AppHost,
    graph_meetings: GraphMeetings,
    server: ServerThread,
    http: httpx.Client,
) -> None:
    endpoint = approved_endpoint(tenant, ehr)
    changed = tenant.call("PATCH", f"portal/endpoints/{endpoint}", json={"provider_landing": "panel"})
    assert changed.status_code == 200 and changed.json()["status"] == "approved", changed.text  # no new approval
    context = browser.new_context(viewport={"width": 375, "height": 740})
    page = context.new_page()
    before = set(graph_meetings.stub.subscriptions)
    with context.expect_page() as teams:  # Teams opens at once, in a tab of its own
        page.goto(ehr.launch_url(FOLLOW_UP, "provider"))
    assert teams.value is not None
    expect(page.get_by_role("heading", name="Virtual visit")).to_be_visible()
    assert "/panel" in page.url
    button = page.get_by_role("link", name="Open the meeting in Teams")
    expect(button).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("No one has joined yet.")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
    assert_accessible(page)

    (subscription,) = graph_meetings.stub.meeting_subscriptions() - before
    for joined in (clinician(tenant), PATIENT):
        assert server.run(graph_meetings.stub.notify(subscription, roster(1, joined=[joined]))) == 202
    app.pump()
    expect(page.get_by_role("status")).to_have_text("1 clinician, 1 patient.")
    connected = page.get_by_role("list", name="Connected now").get_by_role("listitem")
    expect(connected).to_have_count(2)
    expect(page.get_by_role("list", name="Connected now")).to_contain_text("Clinician")
    # The patient opened no link of ours here (the test skips their launch): their role is a guess, and says so.
    expect(page.get_by_role("list", name="Connected now")).to_contain_text("Patient (not certain)")
    assert "Pat Doe" not in page.content() and "Dr Lee" not in page.content()  # roles, never names

    # An interpreter is invited with a link to copy (no number); they will wait in the lobby.
    page.get_by_label("Who").select_option("interpreter")
    page.get_by_role("button", name="Copy a link").click()
    link = page.get_by_label("Invite link")
    expect(link).to_be_visible()
    assert "/api/join#" in link.input_value()
    expect(page.get_by_role("list", name="Invited")).to_contain_text("Interpreter")
    page.get_by_role("button", name="Text the link").click()  # no number typed: said next to the field, nothing sent
    expect(page.locator("#invite-phone-error")).to_contain_text("Type the mobile number")
    number = page.get_by_label("Mobile number (to text the link)")
    expect(number).to_have_attribute("aria-invalid", "true")
    number.fill("12")  # not a number that can get texts: the API's word, next to the field
    page.get_by_role("button", name="Text the link").click()
    expect(page.locator("#invite-phone-error")).to_contain_text("not a phone number that can get texts")
    expect(number).to_be_focused()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(page)
    assert follow_join_link(httpx.Client(), link.input_value()).status_code == 302

    # Running late: one tap; with no patient's number on file, the panel says why nothing went.
    page.get_by_role("button", name="10 minutes late").click()
    expect(page.locator("#late-result")).to_contain_text("no patient with a mobile number")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(page)

    # Another browser, without the launch's cookie: a page that says what to do, nothing of the visit.
    stranger = browser.new_context(viewport={"width": 375, "height": 740}).new_page()
    stranger.goto(page.url)
    expect(stranger.get_by_role("heading", name="Start the visit from the EHR")).to_be_visible()
    assert_accessible(stranger)
    context.close()
