"""The reports feature's service."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from shared.platform import Platform
from shared.reports.reports import Reports


@dataclass(eq=False)
class ReportServices:
    platform: Platform

    @cached_property
    def reports(self) -> Reports:
        return Reports(
            tables=self.platform.tables,
            clock=self.platform.clock,
            meeting_provider=self.platform.settings.visits.meeting_provider,
        )
