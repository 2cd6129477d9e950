"""Usage reports in the portal API (admins): visits, texts and call quality over the last 7, 30 or 90 days or a
custom range, as JSON or, with `format=csv`, as a CSV download."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import azure.functions as func
from pydantic import BaseModel, ValidationError

from functions._http import api_errors, csv_response, invalid_input, json_response, portal_caller
from functions._openapi import ApiRoutes
from shared.core.errors import InvalidInput
from shared.reports.csv import call_quality_csv, sms_csv, visits_csv
from shared.reports.models import CallQualityReport, ReportRange, SmsReport, VisitFilter, VisitReport
from shared.runtime import get_runtime

bp = func.Blueprint()
api = ApiRoutes(bp)
QUERY = (
    ("days", "7, 30 or 90: the days up to today (UTC); the default is 30."),
    ("start", "First day of a custom range (YYYY-MM-DD), with end."),
    ("end", "Last day of a custom range (YYYY-MM-DD, inclusive), with start."),
    ("format", "json (default) or csv."),
)
VISIT_QUERY = (
    *QUERY,
    ("endpoint_id", "Only visits of this FHIR endpoint."),
    ("department_id", "Only visits of this department (as the EHR names it)."),
    ("status", "Only completed, no_show or in_progress visits."),
)


def _visit_filter(req: func.HttpRequest) -> VisitFilter:
    values = {name: req.params[name] for name in ("endpoint_id", "department_id", "status") if req.params.get(name)}
    try:
        return VisitFilter.model_validate(values)
    except ValidationError as exc:
        raise invalid_input(exc, "Some filters are invalid; see errors.") from None


def _report(
    req: func.HttpRequest, build: Callable[[Any, ReportRange], BaseModel], to_csv: Callable[[Any], str], name: str
) -> func.HttpResponse:
    runtime, principal = portal_caller(req)
    kind = (req.params.get("format") or "json").lower()
    if kind not in ("json", "csv"):
        raise InvalidInput("format is json or csv.", {"format": "json or csv"})
    span = runtime.reports.reports.range(req.params.get("days"), req.params.get("start"), req.params.get("end"))
    report = build(principal, span)
    if kind == "csv":
        return csv_response(to_csv(report), f"{name}-{span.start}-{span.end}.csv")
    return json_response(report)


@api.route(
    "GET",
    "portal/reports/visits",
    summary="Visits: start, duration, lobby wait, attendees, completed or no-show, texts sent, department",
    description="Start is when a clinician and a patient were first both connected (UTC); duration runs until "
    "the last one left. Appointments booked by scheduling messages that ended with nobody connected are "
    "no-shows.",
    tag="reports",
    response=VisitReport,
    query=VISIT_QUERY,
)
@api_errors
def visits_report(req: func.HttpRequest) -> func.HttpResponse:
    filters = _visit_filter(req)
    return _report(
        req,
        lambda principal, span: get_runtime().reports.reports.visits(principal, span, filters),
        visits_csv,
        "visits",
    )


@api.route(
    "GET",
    "portal/reports/sms",
    summary="Texts: sent, delivered, failed and opted out, by type",
    tag="reports",
    response=SmsReport,
    query=QUERY,
)
@api_errors
def sms_report(req: func.HttpRequest) -> func.HttpResponse:
    return _report(req, get_runtime().reports.reports.sms, sms_csv, "sms")


@api.route(
    "GET",
    "portal/reports/call-quality",
    summary="Call quality, where the meeting provider reports it",
    tag="reports",
    response=CallQualityReport,
    query=QUERY,
)
@api_errors
def call_quality_report(req: func.HttpRequest) -> func.HttpResponse:
    return _report(req, get_runtime().reports.reports.call_quality, call_quality_csv, "call-quality")
