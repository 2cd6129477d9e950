"""The call-quality report: per visit and role, the figures Teams call records gave (shared/writeback/call_records.py
keeps them), with the visits report's filters, totals per role, and calls per day with how many had a poor stream."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from shared.reports.models import (
    CallQuality,
    CallQualityDay,
    CallQualityReport,
    CallQualityRow,
    QualityFigures,
    ReportRange,
    VisitFilter,
)
from shared.reports.tables import CallQualityRepository, VisitSummaryRepository
from shared.setup.models import Organisation
from shared.storage.routing import Tables

LOCAL = (
    "From the dev meeting page's call records: no media flows locally, so its figures are the loopback's and say "
    "nothing of a network. With Microsoft Teams, they come from its call records."
)
TEAMS = (
    "From Microsoft Teams call records (CallRecords.Read.All), which arrive within hours of a call. Poor: a stream "
    "over the Call Quality Dashboard's thresholds (audio: round trip over 500 ms, packet loss over 10 % or jitter "
    "over 30 ms; video: frame loss over 50 %, packet loss over 15 % or under 7 frames a second)."
)


def combined(rows: list[QualityFigures]) -> QualityFigures:
    """Figures of several records or roles: averages weighted by streams, the worst of the worst."""

    def average(name: str) -> float | None:
        known = [(getattr(r, name), r.streams) for r in rows if getattr(r, name) is not None and r.streams]
        total = sum(weight for _, weight in known)
        return round(sum(value * weight for value, weight in known) / total, 3) if total else None

    def worst(name: str) -> float | None:
        known = [getattr(r, name) for r in rows if getattr(r, name) is not None]
        return max(known) if known else None

    return QualityFigures(
        streams=sum(r.streams for r in rows),
        poor_streams=sum(r.poor_streams for r in rows),
        average_jitter_ms=average("average_jitter_ms"),
        worst_jitter_ms=worst("worst_jitter_ms"),
        average_packet_loss_percent=average("average_packet_loss_percent"),
        worst_packet_loss_percent=worst("worst_packet_loss_percent"),
        average_round_trip_ms=average("average_round_trip_ms"),
        worst_round_trip_ms=worst("worst_round_trip_ms"),
        average_audio_degradation=average("average_audio_degradation"),
    )


def call_quality_report(
    tables: Tables,
    organisation: Organisation,
    span: ReportRange,
    filters: VisitFilter,
    provider: str,
) -> CallQualityReport:
    keys = {"first": f"{span.start:%Y%m%d}", "after": f"{span.end + timedelta(days=1):%Y%m%d}"}
    window = "RowKey ge @first and RowKey lt @after"
    tenant = organisation.tenant_id
    departments = {
        s.appointment_key: s.department_id
        for s in tables.data(organisation, VisitSummaryRepository).iterate(tenant, query=window, parameters=keys)
    }
    records: dict[tuple[str, str], list[CallQuality]] = defaultdict(list)
    for row in tables.data(organisation, CallQualityRepository).iterate(tenant, query=window, parameters=keys):
        records[(row.appointment_key, row.role)].append(row)
    items = []
    for (key, role), rows in records.items():
        first = min(rows, key=lambda r: r.call_start)
        figures = combined(list(rows))
        item = CallQualityRow(
            appointment_key=key,
            day=datetime.strptime(first.day, "%Y%m%d").date(),
            endpoint_id=first.endpoint_id,
            department_id=departments.get(key),
            role=role,
            poor=figures.poor_streams > 0,
            **figures.model_dump(),
        )
        if (filters.endpoint_id in (None, item.endpoint_id)) and (filters.department_id in (None, item.department_id)):
            items.append(item)
    items.sort(key=lambda r: (r.day, r.appointment_key, r.role))
    visits: dict[str, tuple[object, bool]] = {}
    for item in items:
        visits[item.appointment_key] = (item.day, visits.get(item.appointment_key, (item.day, False))[1] or item.poor)
    days: dict[object, list[bool]] = defaultdict(list)
    for day, was_poor in visits.values():
        days[day].append(was_poor)
    return CallQualityReport(
        range=span,
        filters=filters,
        provider=provider,
        reported=True,
        detail=LOCAL if provider == "local" else TEAMS,
        calls=len(visits),
        poor_calls=sum(poor for _, poor in visits.values()),
        by_role={
            role: combined([i for i in items if i.role == role])
            for role in ("clinician", "patient", "guest")
            if any(i.role == role for i in items)
        },
        by_day=[
            CallQualityDay(day=day, calls=len(flags), poor_calls=sum(flags))
            for day, flags in sorted(days.items(), key=lambda pair: str(pair[0]))
        ],
        items=items,
    )
