"""The audit log: who changed what in the organisation's setup, newest first, filtered by person, action and days,
as JSON pages or one CSV."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import azure.functions as func

from functions._http import csv_response
from functions.portal.parameters import AuditQuery
from functions.portal.registry import Call, api
from shared.core.errors import Unprocessable
from shared.reports.csv import csv_text
from shared.setup.audit_models import AuditFilter, AuditPage

CSV_HEADER = ("at", "name", "email", "user_id", "action", "summary", "entity", "entity_id", "fields")


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone)


@api.route(
    "GET",
    "portal/audit",
    summary="The audit log, newest first (admins)",
    description="Each entry names the person as their sign-in gave them at the time (entries from before names "
    "were kept give only the user ID) and says what they did in words. Days are the organisation's. With "
    "`format=csv`, every matching entry (up to 10,000) as one download, times as ISO 8601 with their offset.",
    tag="audit",
    response=AuditPage,
    parameters=AuditQuery,
    also_csv=True,
)
def audit_log(call: Call[None]) -> AuditPage | func.HttpResponse:
    query = call.checked(AuditQuery)
    audit = call.runtime.setup.audit
    zone_name = call.runtime.setup.organisations.get(call.principal).time_zone
    zone = ZoneInfo(zone_name)
    if query.start and query.end and query.start > query.end:
        raise Unprocessable("The last day is before the first; swap them.", {"end": "on or after start"})
    filters = AuditFilter(
        person=query.person,
        action=query.action,
        since=_midnight(query.start, zone) if query.start else None,
        before=_midnight(query.end + timedelta(days=1), zone) if query.end else None,
    )
    if query.format == "csv":
        lines = audit.export(call.principal, filters)
        rows = [
            (e.at, e.name, e.email, e.user_id, e.action, e.summary, e.entity, e.entity_id, " ".join(e.fields))
            for e in lines
        ]
        return csv_response(csv_text(CSV_HEADER, rows, time_zone=zone_name), "audit-log.csv")
    return audit.page(call.principal, query.continuation, filters=filters)
