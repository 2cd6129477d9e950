"""The reports page in a browser, on a scripted visit whose figures are known: the totals, the charts' figures,
the visits table and its filters, and the CSV export; then the same page on a 375 px phone."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from dev.fakes.sandbox_ehr import SandboxEhr
from shared.messaging.survey_models import VisitSurvey, VisitSurveyRepository
from shared.runtime import get_runtime
from shared.setup.tables import OrganisationRepository
from tests.e2e.conftest import OpenPortal, assert_accessible
from tests.support.portal import Tenant, create_endpoint
from tests.support.reports import set_time_zone


def show_day(page: Page, day: str = "2026-11-20") -> None:
    page.get_by_label("Period", exact=True).select_option("custom")
    page.get_by_label("From").fill(day)
    page.get_by_label("To (inclusive)").fill(day)
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".range")).to_have_text(f"{day} to {day}")


def tile(page: Page, name: str) -> str:
    return page.locator(".tile", has=page.get_by_text(name, exact=True)).locator("dd").inner_text()


def chart_figures(page: Page, title: str) -> dict[str, str]:
    figure = page.locator("figure.chart", has=page.get_by_text(title, exact=True))
    expect(figure.locator("canvas")).to_have_count(1)  # uPlot drew it
    figure.get_by_text("Show the figures").click()
    rows = figure.locator("tbody tr").all()
    return {row.locator("th").inner_text(): row.locator("td").inner_text() for row in rows}


def charts_labels_fit(page: Page) -> None:
    """Every chart shows only as many x labels as fit its width side by side (so none overlaps another)."""
    boxes = page.locator(".chart-canvas")
    expect(boxes.first).to_have_attribute("data-labels-shown", re.compile(r"\d+"))
    for index in range(boxes.count()):
        box = boxes.nth(index)
        shown, width = int(box.get_attribute("data-labels-shown") or 0), int(box.get_attribute("data-label-width") or 0)
        assert shown * width <= box.evaluate("(el) => el.clientWidth"), box.get_attribute("aria-label")


def test_reports_page_shows_the_scripted_visits(
    portal_for: OpenPortal, tenant: Tenant, scripted: dict[str, str]
) -> None:
    admin = portal_for(tenant)
    page = admin.page
    admin.sign_in()
    admin.go("reports")
    expect(page.get_by_role("heading", name="Reports")).to_be_visible()
    show_day(page)

    assert (tile(page, "Visits"), tile(page, "Completed"), tile(page, "No-shows")) == ("3", "1", "2")
    assert tile(page, "Average duration") == "26 min 00 s"
    assert tile(page, "Average lobby wait") == "3 min 00 s"
    assert tile(page, "Texts sent") == "4"
    assert chart_figures(page, "Visits per day (UTC)") == {"Nov 20": "3"}
    waits = chart_figures(page, "Lobby wait (minutes)")
    assert waits["2–5"] == "1" and sum(map(int, waits.values())) == 1
    assert chart_figures(page, "SMS delivery outcomes") == {
        "Sent": "2",
        "Delivered": "0",
        "Failed": "1",
        "Opted out": "1",
        "Not sent": "0",
    }

    # Call quality from the visit's Teams call record: the patient's audio had poor jitter.
    assert tile(page, "With a poor stream") == "1"
    assert chart_figures(page, "Visits with a poor stream, per day (UTC)") == {"Nov 20": "1"}
    quality = page.get_by_role("table", name="Call quality by visit and role")
    expect(quality.locator("tbody tr")).to_have_count(3)
    expect(quality.get_by_role("row").filter(has_text="Patient")).to_contain_text("Poor (2 of 2 streams)")
    expect(quality.get_by_role("row").filter(has_text="Clinician")).to_contain_text("Good")

    table = page.get_by_role("table", name="Visits", exact=True)
    expect(table.locator("tbody tr")).to_have_count(3)
    completed = table.get_by_role("row").filter(has_text="Completed")
    expect(completed).to_contain_text("North Clinic")  # named by its endpoint and its date, never by a hex key
    assert scripted["A"] not in table.inner_text() and scripted["A"] not in quality.inner_text()
    expect(completed).to_contain_text("DEP-7")
    expect(completed).to_contain_text("26 min 00 s")
    expect(completed).to_contain_text("Completed")
    # The scripted people joined with no link of the connector's: their roles are estimates, and say so.
    expect(completed).to_contain_text("3 (estimated: 1 guest, 1 patient)")
    expect(page.get_by_text("Estimated roles:")).to_be_visible()
    surveys = page.locator("section", has=page.get_by_role("heading", name="Post-visit surveys"))
    expect(surveys).to_contain_text("No surveys texted in this period.")
    assert tile(page, "Surveys sent") == "0" and tile(page, "Response rate") == "—"
    admin.assert_usable()
    admin.shot("reports")

    # Filters narrow the table, the totals and the export alike.
    page.get_by_label("Status", exact=True).select_option("no_show")
    page.get_by_role("button", name="Show").click()
    expect(table.locator("tbody tr")).to_have_count(2)
    assert tile(page, "Visits") == "2"
    with page.expect_download() as download:
        page.get_by_role("button", name="Export visits (CSV)").click()
    assert download.value.suggested_filename == "visits-2026-11-20-2026-11-20.csv"
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert sorted(r["appointment_key"] for r in rows) == sorted([scripted["B"], scripted["C"]])
    assert {r["status"] for r in rows} == {"no_show"}

    # A custom range the wrong way round: the API's reason, next to the field.
    page.get_by_label("From").fill("2026-11-21")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_be_visible()

    phone = portal_for(tenant, width=375)
    phone.sign_in()
    phone.go("reports")
    show_day(phone.page)
    expect(phone.page.get_by_role("table", name="Visits", exact=True).locator("tbody tr")).to_have_count(3)
    charts_labels_fit(phone.page)
    expect(phone.page.get_by_role("img", name=re.compile("0 visits confirmed by reply"))).to_be_attached()
    phone.assert_usable()
    assert_accessible(phone.page)
    phone.shot("reports-375px")


def test_reports_are_for_admins_only(portal_for: OpenPortal, tenant: Tenant) -> None:
    approver = portal_for(tenant)
    approver.sign_in("analyst@northclinic.example", admin=False, approver=True)
    expect(approver.page.get_by_role("link", name="Reports")).to_have_count(0)
    approver.go("reports")
    expect(approver.page.get_by_role("heading", name="FHIR endpoints")).to_be_visible()


@pytest.mark.parametrize("width", [1280, 375])
def test_every_time_is_the_organisations_whatever_the_browsers(
    portal_for: OpenPortal, tenant: Tenant, scripted: dict[str, str], width: int
) -> None:
    set_time_zone(tenant, "America/Chicago")
    admin = portal_for(tenant, width=width, browser_zone="Asia/Tokyo")  # a browser elsewhere: not its clock
    page = admin.page
    admin.sign_in()
    admin.go("reports")
    expect(page.get_by_text("Times are in the organisation's time zone, America/Chicago (C")).to_be_visible()
    show_day(page)
    completed = page.get_by_role("table", name="Visits", exact=True).get_by_role("row").filter(has_text="Completed")
    expect(completed).to_contain_text("Nov 20, 2026, 9:04 AM CST")  # 15:04 UTC
    admin.assert_usable()
    admin.go("audit")
    expect(page.get_by_role("table").locator("tbody tr").first).to_contain_text(re.compile(r"\d:\d\d [AP]M C[SD]T"))
    admin.shot(f"reports-times-{width}px")


def test_the_survey_report_by_endpoint_and_department_on_a_phone(
    portal_for: OpenPortal, tenant: Tenant, sandbox: SandboxEhr
) -> None:
    endpoint = create_endpoint(tenant, sandbox, display_name="North Clinic EHR")["id"]
    runtime = get_runtime()
    organisation = runtime.platform.tables.control(OrganisationRepository).get(tenant.id, "organisation")
    rows = runtime.platform.tables.data(organisation, VisitSurveyRepository)
    now = datetime.now(UTC)
    for number, department, rating, again in (
        ("1", "DEP-7", 4, True),
        ("2", "DEP-7", None, None),
        ("3", None, 2, False),
    ):
        rows.create(
            VisitSurvey(
                tenant_id=tenant.id,
                endpoint_id=endpoint,
                appointment_key=number * 40,
                department_id=department,
                sent_at=now,
                closes_at=now + timedelta(days=14),
                answered_at=now if rating else None,
                rating=rating,
                again=again,
            )
        )
    phone = portal_for(tenant, width=375)
    phone.sign_in()
    phone.go("reports")
    page = phone.page
    assert (tile(page, "Surveys sent"), tile(page, "Response rate")) == ("3", "67 %")
    assert (tile(page, "Average rating (1 to 5)"), tile(page, "Would choose video again")) == ("3", "50 %")
    table = page.get_by_role("table", name="Surveys by endpoint and department")
    expect(table.get_by_role("row").filter(has_text="DEP-7")).to_contain_text("North Clinic EHR")
    expect(table.get_by_role("row").filter(has_text="by endpoint only")).to_contain_text("100 %")
    expect(page.get_by_text("blank where no launch named one")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Export surveys (CSV)").click()
    exported = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert [(r["department_id"], r["sent"], r["answered"]) for r in exported] == [
        ("", "1", "1"),
        ("DEP-7", "2", "1"),
        ("", "3", "2"),
    ]
    phone.assert_usable()
    assert_accessible(page)
