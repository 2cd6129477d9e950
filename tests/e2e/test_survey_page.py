"""The post-visit survey page a patient's text opens, in a 375 px browser: answered by keyboard alone, under its
strict Content-Security-Policy with no violation, the token never in a request's URL, and accessible (axe-core)
before and after; a missing answer shows the questions again, in the patient's language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page, Request, expect

from dev.fakes.sandbox_ehr import SandboxEhr
from shared.messaging.survey_models import VisitSurvey, VisitSurveyRepository
from shared.runtime import get_runtime
from shared.setup.tables import OrganisationRepository
from shared.visits.models import appointment_key
from tests.e2e.conftest import assert_accessible
from tests.support.portal import Tenant, approved_endpoint


def _survey_link(tenant: Tenant, ehr: SandboxEhr, locale: str) -> str:
    """A survey texted a moment ago (as the dispatcher makes it when the call ends), and its link."""
    runtime = get_runtime()
    endpoint = approved_endpoint(tenant, ehr)
    key = appointment_key(tenant.id, endpoint, f"csn:{locale}")
    organisation = runtime.platform.tables.control(OrganisationRepository).get(tenant.id, "organisation")
    now = datetime.now(UTC)
    survey = VisitSurvey(
        tenant_id=tenant.id,
        endpoint_id=endpoint,
        appointment_key=key,
        locale=locale,
        sent_at=now,
        closes_at=now + timedelta(days=14),
    )
    runtime.platform.tables.data(organisation, VisitSurveyRepository).create(survey)
    return runtime.messaging.surveys.links.url(tenant.id, endpoint, key, locale)


def _phone(browser: Browser) -> tuple[Page, list[str], list[Request]]:
    page = browser.new_context(viewport={"width": 375, "height": 740}, locale="en-US").new_page()
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))  # the browser's own ask, not the page's
    problems: list[str] = []
    requests: list[Request] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("request", lambda request: requests.append(request))
    return page, problems, requests


def _fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(page)


def test_a_patient_answers_the_survey_by_keyboard_on_a_phone(browser: Browser, tenant: Tenant, ehr: SandboxEhr) -> None:
    link = _survey_link(tenant, ehr, "en_US")
    token = urlsplit(link).fragment
    page, problems, requests = _phone(browser)
    page.goto(link)
    expect(page.get_by_role("heading", name="Your video visit: two questions")).to_be_visible()
    assert token not in page.url  # taken off the address once read
    _fits(page)

    page.keyboard.press("Tab")  # the rating's first choice
    for _ in range(3):
        page.keyboard.press("ArrowRight")  # to 4
    expect(page.get_by_role("radio", name="4")).to_be_checked()
    page.keyboard.press("Tab")  # the second question
    page.keyboard.press("Space")
    expect(page.get_by_role("radio", name="Yes")).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Send my answers")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    _fits(page)
    assert problems == []
    assert all(token not in request.url for request in requests)  # posted, never in a URL


def test_a_missing_answer_asks_again_in_the_patients_language(
    browser: Browser, tenant: Tenant, ehr: SandboxEhr
) -> None:
    link = _survey_link(tenant, ehr, "es_US")
    page, problems, _ = _phone(browser)
    page.goto(link)
    expect(page.get_by_role("heading", name="Su consulta por video: dos preguntas")).to_be_visible()
    page.get_by_role("radio", name="3").check()
    page.get_by_role("button", name="Enviar mis respuestas").click()
    expect(page.get_by_role("alert")).to_contain_text("Elija una calificación del 1 al 5")
    _fits(page)
    page.get_by_role("radio", name="3").check()
    page.get_by_role("radio", name="No").check()
    page.get_by_role("button", name="Enviar mis respuestas").click()
    expect(page.get_by_role("heading", name="Gracias")).to_be_visible()
    assert [p for p in problems if "status of 422" not in p] == []  # the page asked again answers 422, by design
