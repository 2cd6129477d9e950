"""The join page a patient's text opens, in a phone-sized browser: the link's token stays in the fragment (no
request the browser makes carries it), the page posts it and the patient lands in the meeting; an incomplete link
or a visit not open yet gets a plain sentence; the page runs under its strict Content-Security-Policy with no
violation, fits 375 px and works by keyboard."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page, Request, expect

from dev.fakes.sandbox_ehr import SandboxEhr
from shared.auth.principal import Principal, Role
from shared.runtime import get_runtime
from shared.visits.models import Appointment, appointment_key
from shared.visits.tables import AppointmentRepository
from tests.conftest import GraphMeetings
from tests.e2e.conftest import assert_accessible
from tests.support.portal import Tenant, approved_endpoint
from tests.support.visits import join_link

TEAMS = "https://teams.microsoft.com/"


def _phone(browser: Browser, locale: str = "en-US") -> tuple[Page, list[str]]:
    """A 375 px browser tab (its Accept-Language: `locale`) that never leaves for Teams (the meeting answers with a
    stand-in page), and what went wrong in it: script errors and console errors (a CSP violation is one)."""
    page = browser.new_context(viewport={"width": 375, "height": 740}, locale=locale).new_page()
    page.route(f"{TEAMS}**", lambda route: route.fulfill(body="<title>Teams</title>", content_type="text/html"))
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    return page, problems


def _fits_and_is_labelled(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('a, button, input:not([type=hidden])')]
            .filter((el) => el.offsetParent !== null && !el.textContent.trim() && !el.getAttribute('aria-label'))
            .map((el) => el.outerHTML)"""
    )
    assert unlabelled == []
    assert_accessible(page)


def test_a_patient_follows_a_texted_link_into_the_meeting(
    browser: Browser, tenant: Tenant, ehr: SandboxEhr, graph_meetings: GraphMeetings
) -> None:
    endpoint = approved_endpoint(tenant, ehr)
    link = join_link(tenant, endpoint, datetime.now(UTC) + timedelta(minutes=5))
    token = urlsplit(link).fragment
    page, problems = _phone(browser)
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    page.goto(link)
    page.wait_for_url(f"{TEAMS}**")
    assert "anon=true" in page.url
    ours = [r for r in requests if r.url.startswith(link.split("/api/", 1)[0])]
    assert [(r.method, urlsplit(r.url).path) for r in ours] == [("GET", "/api/join"), ("POST", "/api/join")]
    assert all(token not in r.url and token not in (r.headers.get("referer") or "") for r in requests)
    assert problems == []


def test_an_incomplete_link_says_what_to_do_and_works_by_keyboard(browser: Browser, tenant: Tenant) -> None:
    page, problems = _phone(browser)
    page.goto(join_link(tenant, "0" * 16, datetime.now(UTC)).split("#", 1)[0])  # the fragment lost on the way
    expect(page.get_by_role("heading", name="Join your video visit")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("This link is incomplete")
    _fits_and_is_labelled(page)
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Test your camera, microphone and speaker before your visit."
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Test your camera, microphone and speaker")).to_be_visible()
    assert_accessible(page)  # the device test page too
    assert problems == []


def test_a_visit_not_open_yet_gets_a_plain_sentence(
    browser: Browser, tenant: Tenant, ehr: SandboxEhr, graph_meetings: GraphMeetings
) -> None:
    endpoint = approved_endpoint(tenant, ehr)
    page, problems = _phone(browser)
    page.goto(join_link(tenant, endpoint, datetime.now(UTC) + timedelta(hours=3)))
    expect(page.get_by_role("heading", name="This link cannot be used")).to_be_visible()
    expect(page.get_by_text("Your visit is not open yet.")).to_be_visible()
    _fits_and_is_labelled(page)
    assert [p for p in problems if "400" not in p] == []  # the browser notes the page's status; nothing else


def test_a_spanish_speaking_browser_reads_the_join_and_device_test_pages_in_spanish(
    browser: Browser, tenant: Tenant
) -> None:
    page, problems = _phone(browser, locale="es-US")
    page.goto(join_link(tenant, "0" * 16, datetime.now(UTC)).split("#", 1)[0])
    expect(page.get_by_role("heading", name="Únase a su consulta por video")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Este enlace está incompleto.")
    assert page.get_attribute("html", "lang") == "es"
    _fits_and_is_labelled(page)  # the Spanish page runs under its own policy: no violation either
    page.get_by_role("link", name="Pruebe su cámara, micrófono y altavoz antes de su consulta.").click()
    expect(page.get_by_role("heading", name="Pruebe su cámara, micrófono y altavoz")).to_be_visible()
    assert page.get_attribute("html", "lang") == "es"
    _fits_and_is_labelled(page)
    assert problems == []


def test_a_spanish_speaking_patients_link_says_why_in_spanish_whatever_the_browser(
    browser: Browser, tenant: Tenant, ehr: SandboxEhr, graph_meetings: GraphMeetings
) -> None:
    endpoint = approved_endpoint(tenant, ehr)
    start = datetime.now(UTC) + timedelta(hours=3)
    key = appointment_key(tenant.id, endpoint, uuid.uuid4().hex)
    principal = Principal(tenant.id, "t", "t@x.org", frozenset({Role.ADMIN}))
    organisation = get_runtime().setup.organisations.get(principal)
    appointment = Appointment(endpoint_id=endpoint, appointment_key=key, start=start, end=start + timedelta(minutes=30))
    appointments = get_runtime().platform.tables.data(organisation, AppointmentRepository)
    appointments.create(appointment.model_copy(update={"locale": "es_US"}))  # PID-15 said Spanish
    page, problems = _phone(browser)  # an English browser
    page.goto(join_link(tenant, endpoint, start, key))
    expect(page.get_by_role("heading", name="Este enlace no se puede usar")).to_be_visible()
    expect(page.get_by_text("Su consulta todavía no está abierta.")).to_be_visible()
    assert page.get_attribute("html", "lang") == "es"
    _fits_and_is_labelled(page)
    assert [p for p in problems if "400" not in p] == []


def test_a_meeting_with_audio_conferencing_offers_its_phone_number_beside_the_video_link(
    browser: Browser, tenant: Tenant, ehr: SandboxEhr, graph_meetings: GraphMeetings
) -> None:
    endpoint = approved_endpoint(tenant, ehr)
    graph_meetings.stub.audio_conferencing = {"tollNumber": "+1 217-555-0142", "conferenceId": "481516234"}
    try:
        page, problems = _phone(browser)
        page.goto(join_link(tenant, endpoint, datetime.now(UTC) + timedelta(minutes=5)))
        expect(page.get_by_role("heading", name="No data or camera? Join by phone")).to_be_visible()
        number = page.get_by_role("link", name="+1 217-555-0142")
        assert number.get_attribute("href") == "tel:+12175550142,,481516234%23"
        expect(page.get_by_text("481516234#")).to_be_visible()
        _fits_and_is_labelled(page)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Join the video visit"
        page.keyboard.press("Enter")
        page.wait_for_url(f"{TEAMS}**")
        assert problems == []
    finally:
        graph_meetings.stub.audio_conferencing = None


def test_a_reminders_link_opens_the_device_test_then_the_visit_with_one_tap(
    browser: Browser, tenant: Tenant, ehr: SandboxEhr, graph_meetings: GraphMeetings
) -> None:
    endpoint = approved_endpoint(tenant, ehr)
    link = get_runtime().visits.join_links.device_test_first(
        join_link(tenant, endpoint, datetime.now(UTC) + timedelta(minutes=5))
    )
    token = urlsplit(link).fragment
    page, problems = _phone(browser)
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    page.goto(link)
    expect(page.get_by_role("heading", name="Test your camera, microphone and speaker")).to_be_visible()
    expect(page.get_by_role("heading", name="Your visit")).to_be_visible()
    lost = page.get_by_role("link", name="Lost your link, or it does not work? Get it again by text.")
    expect(lost).to_have_attribute("href", f"lost-link/{endpoint}")  # its clinic's page, from the link's token
    _fits_and_is_labelled(page)
    join = page.get_by_role("link", name="Join your visit")
    join.focus()
    with page.expect_response(lambda r: r.request.method == "POST" and "/api/join" in r.url) as posted:
        page.keyboard.press("Enter")  # one tap: the join page posts the token, and the visit opens
    assert posted.value.status == 302 and posted.value.headers["location"].startswith(TEAMS)
    ours = [r for r in requests if r.url.startswith(link.split("/api/", 1)[0])]
    assert [(r.method, urlsplit(r.url).path) for r in ours] == [
        ("GET", "/api/device-test"),
        ("GET", "/api/join"),
        ("POST", "/api/join"),
    ]
    assert all(token not in r.url and token not in (r.headers.get("referer") or "") for r in requests)
    assert problems == []


def test_the_device_test_without_a_link_offers_no_visit(browser: Browser, tenant: Tenant) -> None:
    page, problems = _phone(browser)
    page.goto(join_link(tenant, "0" * 16, datetime.now(UTC)).split("/api/", 1)[0] + "/api/device-test")
    expect(page.get_by_role("heading", name="Test your camera, microphone and speaker")).to_be_visible()
    expect(page.get_by_role("link", name="Join your visit")).to_be_hidden()
    assert problems == []
