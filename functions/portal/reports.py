"""Usage reports (admins): visits, texts, post-visit surveys and call quality over the last 7, 30 or 90 days or a
custom range, as JSON or, with `format=csv`, as a CSV download."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import azure.functions as func
from pydantic import BaseModel

from functions._http import csv_response
from functions.portal.parameters import CallQualityQuery, ReportQuery, VisitReportQuery
from functions.portal.registry import Call, api
from shared.auth.principal import Principal
from shared.reports.csv import call_quality_csv, sms_csv, surveys_csv, visits_csv
from shared.reports.models import CallQualityReport, ReportRange, SmsReport, VisitFilter, VisitReport
from shared.reports.survey_report import SurveyReport


def _report(
    call: Call[None],
    build: Callable[[Principal, ReportRange], BaseModel],
    to_csv: Callable[[Any], str],
    name: str,
) -> BaseModel | func.HttpResponse:
    query = call.checked(ReportQuery)
    span = call.runtime.reports.reports.range(query.days, query.start, query.end)
    report = build(call.principal, span)
    if query.format == "csv":
        return csv_response(to_csv(report), f"{name}-{span.start}-{span.end}.csv")
    return report


@api.route(
    "GET",
    "portal/reports/visits",
    summary="Visits: start, duration, lobby wait, attendees, completed or no-show, texts sent, department",
    description="Start is when a clinician and a patient were first both connected; duration runs until the last "
    "one left. Appointments booked by scheduling messages that ended with nobody connected are no-shows. The CSV "
    "gives times in the organisation's time zone, as ISO 8601 with their offset.",
    tag="reports",
    response=VisitReport,
    parameters=VisitReportQuery,
    also_csv=True,
)
def visits_report(call: Call[None]) -> BaseModel | func.HttpResponse:
    query = call.checked(VisitReportQuery)
    filters = VisitFilter(endpoint_id=query.endpoint_id, department_id=query.department_id, status=query.status)
    reports = call.runtime.reports.reports
    return _report(call, lambda principal, span: reports.visits(principal, span, filters), visits_csv, "visits")


@api.route(
    "GET",
    "portal/reports/sms",
    summary="Texts: sent, delivered, failed and opted out, by type",
    tag="reports",
    response=SmsReport,
    parameters=ReportQuery,
    also_csv=True,
)
def sms_report(call: Call[None]) -> BaseModel | func.HttpResponse:
    return _report(call, call.runtime.reports.reports.sms, sms_csv, "sms")


@api.route(
    "GET",
    "portal/reports/surveys",
    summary="Post-visit surveys by endpoint and department: response rate, average rating, would choose video again",
    description="Surveys texted after visits' calls ended (where an endpoint's SMS settings turn them on) and "
    "answered, by the day they were texted. Answers are kept with the appointment key only.",
    tag="reports",
    response=SurveyReport,
    parameters=ReportQuery,
    also_csv=True,
)
def surveys_report(call: Call[None]) -> BaseModel | func.HttpResponse:
    return _report(call, call.runtime.reports.reports.surveys, surveys_csv, "surveys")


@api.route(
    "GET",
    "portal/reports/call-quality",
    summary="Call quality per visit and role: jitter, packet loss, round trip, audio degradation, poor streams",
    description="From Microsoft Teams call records: averages and worst values per visit and role (clinician, "
    "patient, guest), whether any stream was poor by the Call Quality Dashboard's thresholds, totals per role and "
    "calls per day. No names, addresses or devices. With the local meeting provider, reported is false.",
    tag="reports",
    response=CallQualityReport,
    parameters=CallQualityQuery,
    also_csv=True,
)
def call_quality_report(call: Call[None]) -> BaseModel | func.HttpResponse:
    query = call.checked(CallQualityQuery)
    filters = VisitFilter(endpoint_id=query.endpoint_id, department_id=query.department_id)
    reports = call.runtime.reports.reports
    return _report(
        call, lambda principal, span: reports.call_quality(principal, span, filters), call_quality_csv, "call-quality"
    )
