"""Visit summaries and call quality, in the organisation's geography (data plane)."""

from __future__ import annotations

from shared.reports.models import CallQuality, VisitSummary
from shared.storage.repository import TableRepository


class VisitSummaryRepository(
    TableRepository[VisitSummary], table="visitsummaries", keys=("{tenant_id}", "{day}|{appointment_key}")
):
    """Row keys start with the visit's UTC day, so that a report reads one key range."""


class CallQualityRepository(
    TableRepository[CallQuality],
    table="callquality",
    keys=("{tenant_id}", "{day}|{appointment_key}|{role}|{record_id}"),
):
    """Per visit, role and call record; row keys start with the call's UTC day, so a report reads one key range."""
