"""Visit summaries, in the organisation's geography (data plane)."""

from __future__ import annotations

from shared.reports.models import VisitSummary
from shared.storage.repository import TableRepository


class VisitSummaryRepository(
    TableRepository[VisitSummary], table="visitsummaries", keys=("{tenant_id}", "{day}|{appointment_key}")
):
    """Row keys start with the visit's UTC day, so that a report reads one key range."""
