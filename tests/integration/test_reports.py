"""Reports from a scripted visit with known join times, through the participant-events queue on Azurite and the
portal API: figures exact to the second, SMS counts, CSV, and each organisation sees only its own."""

from __future__ import annotations

import csv
import io

import pytest

from tests.support.portal import Tenant, new_tenant, organisation, problem
from tests.support.reports import DAY, set_time_zone


def test_visit_report_figures_match_the_script(tenant: Tenant, scripted: dict[str, str]) -> None:
    answer = tenant.call("GET", f"portal/reports/visits?{DAY}")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    rows = {row["appointment_key"]: row for row in report["items"]}
    a, b, c = rows[scripted["A"]], rows[scripted["B"]], rows[scripted["C"]]
    assert a["start"] == "2026-11-20T15:04:00Z"  # the patient joined with the clinician there
    assert a["duration_seconds"] == 26 * 60  # until the clinician, the last one, left
    assert a["lobby_wait_seconds"] == 3 * 60
    assert (a["attendees"], a["status"], a["sms_sent"], a["department_id"]) == (3, "completed", 2, "DEP-7")
    assert a["scheduled_start"] == "2026-11-20T15:00:00Z"
    assert (b["status"], b["start"], b["duration_seconds"], b["attendees"], b["sms_sent"]) == (
        "no_show",
        None,
        None,
        1,
        1,
    )
    assert (c["status"], c["attendees"], c["sms_sent"]) == ("no_show", 0, 1)
    assert report["totals"] == {
        "visits": 3,
        "completed": 1,
        "no_show": 2,
        "in_progress": 0,
        "average_duration_seconds": 1560,
        "average_lobby_wait_seconds": 180,
        "lobby_waits_estimated": 0,  # the local meeting page reports lobby events
        "visits_with_estimated_roles": 1,  # A's people joined with no link of the connector's: who is who is a guess
        "sms_sent": 4,
    }
    assert a["estimated_roles"] == ["guest", "patient"] and b["estimated_roles"] == []
    assert report["range"] == {"start": "2026-11-20", "end": "2026-11-20"}

    exported = tenant.call("GET", f"portal/reports/visits?{DAY}&format=csv")
    assert exported.headers["Content-Type"].startswith("text/csv")
    assert 'filename="visits-2026-11-20-2026-11-20.csv"' in exported.headers["Content-Disposition"]
    table = {r["appointment_key"]: r for r in csv.DictReader(io.StringIO(exported.text))}
    assert table[scripted["A"]]["duration_seconds"] == "1560"
    assert table[scripted["A"]]["start"] == "2026-11-20T15:04:00+00:00"
    set_time_zone(tenant, "America/Chicago")  # the CSV's times are the organisation's, with their offset
    exported = tenant.call("GET", f"portal/reports/visits?{DAY}&format=csv")
    table = {r["appointment_key"]: r for r in csv.DictReader(io.StringIO(exported.text))}
    assert table[scripted["A"]]["start"] == "2026-11-20T09:04:00-06:00"
    assert table[scripted["B"]]["department_id"] == "'=2+2"  # never a formula in a spreadsheet

    # Days outside the range hold nothing.
    assert tenant.call("GET", "portal/reports/visits?start=2026-11-21&end=2026-11-21").json()["items"] == []


def test_sms_report_counts_by_type(tenant: Tenant, scripted: dict[str, str]) -> None:
    report = tenant.call("GET", "portal/reports/sms?start=2026-11-19&end=2026-11-20").json()
    scheduled = {"sent": 1, "segments": 2, "delivered": 1, "failed": 0, "opted_out": 0, "skipped": 0}
    assert report["by_type"]["scheduled"] == scheduled
    reminder = {"sent": 2, "segments": 1, "delivered": 0, "failed": 1, "opted_out": 1, "skipped": 0}
    assert report["by_type"]["reminder"] == reminder  # the failed one was refused: no segments went
    assert report["totals"] == {"sent": 3, "segments": 3, "delivered": 1, "failed": 1, "opted_out": 1, "skipped": 0}
    assert report["failure_reasons"] == {"Azure Communication Services refused the text (HTTP 400).": 1}
    exported = tenant.call("GET", "portal/reports/sms?start=2026-11-19&end=2026-11-20&format=csv").text
    assert exported.splitlines()[0] == "type,sent,segments,delivered,failed,opted_out,skipped"
    assert "total,3,3,1,1,1,0" in exported.splitlines()


def test_call_quality_report_of_the_scripted_visit(tenant: Tenant, scripted: dict[str, str]) -> None:
    quality = tenant.call("GET", f"portal/reports/call-quality?{DAY}").json()
    assert quality["reported"] is True and quality["calls"] == 1 and quality["poor_calls"] == 1
    roles = {row["role"]: row for row in quality["items"]}
    assert {row["appointment_key"] for row in quality["items"]} == {scripted["A"]}
    assert (roles["clinician"]["poor"], roles["patient"]["poor"], roles["guest"]["poor"]) == (False, True, False)
    assert roles["patient"]["average_jitter_ms"] == 42.0 and roles["patient"]["department_id"] == "DEP-7"
    narrowed = tenant.call("GET", f"portal/reports/call-quality?{DAY}&department_id=DEP-9").json()
    assert narrowed["items"] == [] and narrowed["calls"] == 0


def test_reports_are_scoped_to_the_organisation_and_its_admins(tenant: Tenant, scripted: dict[str, str]) -> None:
    stranger = organisation(new_tenant(tenant.http, tenant.identity))
    assert stranger.call("GET", f"portal/reports/visits?{DAY}").json()["items"] == []
    assert stranger.call("GET", "portal/reports/sms?days=90").json()["totals"]["sent"] == 0
    problem(tenant.as_approver("GET", f"portal/reports/visits?{DAY}"), 403)


@pytest.mark.parametrize(
    ("query", "field", "status"),
    [
        # A parameter the API's schema refuses: 400.
        ("days=45", "days", 400),
        ("start=20261120", "start", 400),
        ("format=xml", "format", 400),
        # Each parameter well formed, but not together: 422.
        ("start=2026-11-20", "start", 422),
        ("start=2026-11-20&end=2026-11-01", "end", 422),
        ("start=2025-01-01&end=2026-11-20", "start", 422),
        ("days=7&start=2026-11-20&end=2026-11-20", "days", 422),
    ],
)
def test_bad_ranges_get_problem_details(tenant: Tenant, query: str, field: str, status: int) -> None:
    body = problem(tenant.call("GET", f"portal/reports/visits?{query}"), status)
    assert [e["field"] for e in body["errors"]] == [field]


def test_visit_filters_narrow_rows_totals_and_csv(tenant: Tenant, scripted: dict[str, str]) -> None:
    no_shows = tenant.call("GET", f"portal/reports/visits?{DAY}&status=no_show").json()
    assert sorted(r["appointment_key"] for r in no_shows["items"]) == sorted([scripted["B"], scripted["C"]])
    assert (no_shows["totals"]["visits"], no_shows["totals"]["completed"]) == (2, 0)
    assert no_shows["filters"] == {"endpoint_id": None, "department_id": None, "status": "no_show"}
    department = tenant.call("GET", f"portal/reports/visits?{DAY}&department_id=DEP-7").json()
    assert [r["appointment_key"] for r in department["items"]] == [scripted["A"]]
    other = tenant.call("GET", f"portal/reports/visits?{DAY}&endpoint_id={'0' * 16}").json()
    assert other["items"] == [] and other["totals"]["visits"] == 0
    exported = tenant.call("GET", f"portal/reports/visits?{DAY}&status=completed&format=csv").text
    assert [r["appointment_key"] for r in csv.DictReader(io.StringIO(exported))] == [scripted["A"]]
    refused = problem(tenant.call("GET", f"portal/reports/visits?{DAY}&status=maybe"), 400)
    assert refused["errors"][0]["field"] == "status"
