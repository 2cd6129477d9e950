"""Reports as CSV downloads: one row per visit, per text type, per call-quality figure."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from shared.reports.models import (
    CallQualityReport,
    QualityFigures,
    SmsReport,
    VisitReport,
)
from shared.reports.survey_report import SurveyReport


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]], *, time_zone: str = "UTC") -> str:
    """CSV for spreadsheets: ISO 8601 times in `time_zone` with their offset, empty cells for unknowns, and no cell
    a spreadsheet would run as a formula."""
    zone = ZoneInfo(time_zone)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        cells = []
        for value in row:
            text = "" if value is None else _iso(value, zone) if isinstance(value, datetime) else str(value)
            cells.append("'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text)
        writer.writerow(cells)
    return out.getvalue()


def _iso(moment: datetime, zone: ZoneInfo) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # stored times are UTC
    return aware.astimezone(zone).isoformat(timespec="seconds")


VISIT_COLUMNS = (
    "appointment_key",
    "endpoint_id",
    "department_id",
    "scheduled_start",
    "start",
    "duration_seconds",
    "lobby_wait_seconds",
    "lobby_wait_estimated",
    "attendees",
    "estimated_roles",
    "status",
    "sms_sent",
)


def visits_csv(report: VisitReport) -> str:
    return csv_text(
        VISIT_COLUMNS,
        (
            (
                r.appointment_key,
                r.endpoint_id,
                r.department_id,
                r.scheduled_start,
                r.start,
                r.duration_seconds,
                r.lobby_wait_seconds,
                r.lobby_wait_estimated if r.lobby_wait_seconds is not None else None,
                r.attendees,
                ";".join(r.estimated_roles),
                r.status,
                r.sms_sent,
            )
            for r in report.items
        ),
        time_zone=report.time_zone,
    )


def sms_csv(report: SmsReport) -> str:
    counts = [*report.by_type.items(), ("total", report.totals)]
    rows = [(kind, c.sent, c.segments, c.delivered, c.failed, c.opted_out, c.skipped) for kind, c in counts]
    return csv_text(("type", "sent", "segments", "delivered", "failed", "opted_out", "skipped"), rows)


def surveys_csv(report: SurveyReport) -> str:
    """One row per endpoint and department (blank: by endpoint only), then the totals as endpoint `all`."""
    columns = ("endpoint_id", "department_id", "sent", "answered", "response_rate", "average_rating")
    return csv_text(
        (*columns, "would_choose_video_again"),
        ([*(getattr(r, c) for c in columns), r.would_choose_video_again] for r in [*report.items, report.totals]),
    )


def call_quality_csv(report: CallQualityReport) -> str:
    """One row per visit and role; a report the provider does not fill says why in its one row."""
    figures = list(QualityFigures.model_fields)
    if not report.reported:
        return csv_text(("provider", "reported", "detail"), [(report.provider, report.reported, report.detail)])
    return csv_text(
        ("day", "appointment_key", "endpoint_id", "department_id", "role", "poor", *figures),
        (
            (
                r.day,
                r.appointment_key,
                r.endpoint_id,
                r.department_id,
                r.role,
                r.poor,
                *(getattr(r, f) for f in figures),
            )
            for r in report.items
        ),
    )
