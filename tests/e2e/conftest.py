"""Browser tests: Playwright drives Debian's chromium against the dev host serving `web/` and the real
function app, the local sign-in issuer and the sandbox EHR. `make test` installs chromium when it is missing.

Set SCREENSHOTS=<folder> to save a full-page screenshot at each named step (`make screenshots`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

from dev.fakes.identity import LocalIssuer
from dev.host.serving import ServerThread
from tests.support.portal import Tenant, new_tenant

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ADMIN = "admin@northclinic.example"

expect.set_options(timeout=10_000)


@pytest.fixture(scope="package")  # Playwright's sync API holds the thread's event loop until it stops
def browser() -> Iterator[Browser]:
    if not (ROOT / "web" / "vendor" / "uPlot.esm.js").exists():
        pytest.fail("web/vendor is missing: run `make deps` (make test does) to copy the portal's libraries")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        launched.close()


@dataclass
class Portal:
    """One person's browser tab on the portal, signed in through the local issuer's form like a developer."""

    page: Page
    base: str
    tenant: Tenant
    shots: Path | None
    errors: list[str] = field(default_factory=list)

    def sign_in(self, username: str = ADMIN, *, admin: bool = True, approver: bool = False) -> None:
        page = self.page
        page.goto(f"{self.base}/")
        page.get_by_label("User").fill(username)
        page.get_by_label("Admin (configures the connector)").set_checked(admin)
        page.get_by_label("Approver (EHR analyst)").set_checked(approver)
        page.get_by_text("Organisation", exact=True).click()
        page.get_by_label("Tenant ID").fill(self.tenant.id)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator(".who-name")).to_have_text(username)

    def sign_out(self) -> None:
        self.page.get_by_role("button", name="Sign out").click()
        expect(self.page.get_by_role("heading", name="Sign in to the connector portal")).to_be_visible()

    def go(self, route: str) -> None:
        self.page.goto(f"{self.base}/#/{route}")

    def shot(self, name: str) -> None:
        if self.shots:
            self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)

    def assert_usable(self) -> None:
        """Every control has a label, and nothing is wider than the window (375 px phones included)."""
        unlabelled = self.page.evaluate(
            """() => [...document.querySelectorAll('main input, main select, main textarea, main button')]
                .filter((el) => el.offsetParent !== null)
                .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                                && !(el.tagName === 'BUTTON' && el.textContent.trim()))
                .map((el) => el.outerHTML.slice(0, 120))"""
        )
        assert unlabelled == []
        overflow = self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow} px wider than the window"
        assert_accessible(self.page)


AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def assert_accessible(page: Page) -> None:
    """axe-core's WCAG 2.1 A and AA rules find nothing on the page as it is now (npm axe-core, run in the page)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))  # evaluated, not a <script>: pages' CSPs allow no new script
    violations = page.evaluate(
        """async (tags) => (await axe.run(document, { runOnly: { type: 'tag', values: tags } })).violations
            .map((v) => `${v.id} (${v.impact}): ${v.help} at `
                + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', '))""",
        WCAG_21_AA,
    )
    assert violations == [], "\n".join(violations)


OpenPortal = Callable[..., Portal]


@pytest.fixture
def portal_for(
    browser: Browser, app_host: ServerThread, http: httpx.Client, identity: LocalIssuer, request: pytest.FixtureRequest
) -> Iterator[OpenPortal]:
    """portal_for(tenant=None, width=1200, browser_zone=None): a new browser context (its own session storage) on
    the portal, in the machine's time zone or `browser_zone`."""
    folder = os.environ.get("SCREENSHOTS")
    shots = Path(folder) / request.node.name if folder else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)
    portals: list[Portal] = []

    def open_portal(tenant: Tenant | None = None, width: int = 1200, browser_zone: str | None = None) -> Portal:
        viewport: ViewportSize = {"width": width, "height": 900}
        context = browser.new_context(viewport=viewport, accept_downloads=True, timezone_id=browser_zone)
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_host.url)
        page = context.new_page()
        portal = Portal(page, app_host.url, tenant or new_tenant(http, identity), shots)
        page.on("pageerror", lambda error: portal.errors.append(str(error)))
        portals.append(portal)
        return portal

    yield open_portal
    for portal in portals:
        portal.page.context.close()
    script_errors = [error for portal in portals for error in portal.errors]
    assert script_errors == [], f"the portal raised script errors: {script_errors}"


@pytest.fixture
def portal(portal_for: OpenPortal) -> Portal:
    return portal_for()
