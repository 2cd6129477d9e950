"""Usage reports (admins): visits, texts and call quality over the last 7, 30 or 90 days or a custom range, as
JSON or, with `format=csv`, as a CSV download."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import azure.functions as func
from pydantic import BaseModel, ValidationError

from functions._http import csv_response, invalid_input
from functions.portal.parameters import ReportQuery, VisitReportQuery
from functions.portal.registry import Call, api
from shared.auth.principal import Principal
from shared.core.errors import InvalidInput
from shared.reports.csv import call_quality_csv, sms_csv, visits_csv
from shared.reports.models import CallQualityReport, ReportRange, SmsReport, VisitFilter, VisitReport


def _visit_filter(call: Call[None]) -> VisitFilter:
    values = {name: call.query(name) for name in ("endpoint_id", "department_id", "status") if call.query(name)}
    try:
        return VisitFilter.model_validate(values)
    except ValidationError as exc:
        raise invalid_input(exc, "Some filters are invalid; see errors.") from None


def _report(
    call: Call[None],
    build: Callable[[Principal, ReportRange], BaseModel],
    to_csv: Callable[[Any], str],
    name: str,
) -> BaseModel | func.HttpResponse:
    kind = (call.query("format") or "json").lower()
    if kind not in ("json", "csv"):
        raise InvalidInput("format is json or csv.", {"format": "json or csv"})
    span = call.runtime.reports.reports.range(call.query("days"), call.query("start"), call.query("end"))
    report = build(call.principal, span)
    if kind == "csv":
        return csv_response(to_csv(report), f"{name}-{span.start}-{span.end}.csv")
    return report


@api.route(
    "GET",
    "portal/reports/visits",
    summary="Visits: start, duration, lobby wait, attendees, completed or no-show, texts sent, department",
    description="Start is when a clinician and a patient were first both connected (UTC); duration runs until "
    "the last one left. Appointments booked by scheduling messages that ended with nobody connected are "
    "no-shows.",
    tag="reports",
    response=VisitReport,
    parameters=VisitReportQuery,
    also_csv=True,
)
def visits_report(call: Call[None]) -> BaseModel | func.HttpResponse:
    filters = _visit_filter(call)
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
    "portal/reports/call-quality",
    summary="Call quality, where the meeting provider reports it",
    tag="reports",
    response=CallQualityReport,
    parameters=ReportQuery,
    also_csv=True,
)
def call_quality_report(call: Call[None]) -> BaseModel | func.HttpResponse:
    return _report(call, call.runtime.reports.reports.call_quality, call_quality_csv, "call-quality")
