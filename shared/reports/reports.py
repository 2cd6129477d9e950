"""Usage reports for an organisation's admins: visits, texts and call quality over a range of UTC days (the
last 7, 30 or 90, or a custom range of up to a year), each also as CSV.

Visits come from the summaries the participant-events processor keeps (one key range per report), plus
appointments booked through scheduling messages that ended with nobody in the meeting (no-shows without a
launch). Texts come from the SMS status rows of the organisation's endpoints.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import get_args

from shared.auth.principal import Principal, Role
from shared.core.clock import Clock
from shared.core.errors import InvalidInput, NotFound, Unprocessable
from shared.hl7.siu import AppointmentStatus
from shared.messaging.models import SmsMessageStatus
from shared.messaging.tables import SmsMessageRepository
from shared.reports.call_quality import call_quality_report
from shared.reports.models import (
    MAX_DAYS,
    PRESETS,
    CallQualityReport,
    ReportRange,
    SmsCounts,
    SmsReport,
    VisitFilter,
    VisitReport,
    VisitRow,
    VisitTotals,
)
from shared.reports.survey_report import SurveyReport, survey_report
from shared.reports.tables import VisitSummaryRepository
from shared.setup.models import Organisation
from shared.setup.tables import FhirEndpointRepository, OrganisationRepository
from shared.storage.routing import Tables
from shared.visits.models import SmsType
from shared.visits.tables import AppointmentRepository

SMS_LOOKBACK = timedelta(days=60)  # confirmations go out days or weeks before the visit they are for


SENT = frozenset({"sent", "delivered", "failed"})


SMS_TYPES = get_args(SmsType)  # every kind of text, shown even when none went


def _moment(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


@dataclass(kw_only=True, eq=False)
class Reports:
    tables: Tables
    clock: Clock
    meeting_provider: str

    def range(self, days: int | None, start: date | None, end: date | None) -> ReportRange:
        """`days` (7, 30 or 90, ending today), or `start` and `end` (inclusive); default 30 days. Each value is
        well formed (the API checked it); what is refused here is how they go together."""
        today = self.clock.now().astimezone(UTC).date()
        if start is not None or end is not None:
            if days is not None:
                raise Unprocessable("Give either days or start and end, not both.", {"days": "leave out"})
            if start is None or end is None:
                raise Unprocessable(
                    "start and end are both needed, as dates such as 2026-11-01.", {"start": "with end, YYYY-MM-DD"}
                )
            if end < start:
                raise Unprocessable("end is before start.", {"end": "on or after start"})
            if (end - start).days + 1 > MAX_DAYS:
                raise Unprocessable(f"A report covers at most {MAX_DAYS} days.", {"start": "a later date"})
            return ReportRange(start=start, end=end)
        count = 30 if days is None else days
        if count not in PRESETS:
            raise InvalidInput("days is 7, 30 or 90; or give start and end.", {"days": "7, 30 or 90"})
        return ReportRange(start=today - timedelta(days=count - 1), end=today)

    def _organisation(self, principal: Principal) -> Organisation:
        principal.require(Role.ADMIN)
        organisation = self.tables.control(OrganisationRepository).find(principal.tenant_id, "organisation")
        if organisation is None:
            raise NotFound("Your organisation is not set up yet.")
        return organisation

    def _endpoint_ids(self, tenant_id: str) -> list[str]:
        return [e.id for e in self.tables.control(FhirEndpointRepository).iterate(tenant_id)]

    def _messages(
        self, organisation: Organisation, endpoints: list[str], since: datetime, until: datetime
    ) -> list[SmsMessageStatus]:
        rows = self.tables.data(organisation, SmsMessageRepository)
        found: list[SmsMessageStatus] = []
        for endpoint in endpoints:
            found.extend(
                rows.iterate(
                    endpoint,
                    query="created_at ge @since and created_at lt @until",
                    parameters={"since": since, "until": until},
                )
            )
        return found

    def visits(self, principal: Principal, span: ReportRange, filters: VisitFilter | None = None) -> VisitReport:
        filters = filters or VisitFilter()
        organisation = self._organisation(principal)
        since, until = _moment(span.start), _moment(span.end + timedelta(days=1))
        summaries = list(
            self.tables.data(organisation, VisitSummaryRepository).iterate(
                principal.tenant_id,
                query="RowKey ge @first and RowKey lt @after",
                parameters={"first": f"{span.start:%Y%m%d}", "after": f"{span.end + timedelta(days=1):%Y%m%d}"},
            )
        )
        endpoints = [e for e in self._endpoint_ids(principal.tenant_id) if filters.endpoint_id in (None, e)]
        appointments = self.tables.data(organisation, AppointmentRepository)
        scheduled: dict[str, datetime] = {}
        no_launch: list[VisitRow] = []
        known = {s.appointment_key for s in summaries}
        now = self.clock.now()
        for endpoint in endpoints:
            for appointment in appointments.iterate(
                endpoint, query="start ge @since and start lt @until", parameters={"since": since, "until": until}
            ):
                scheduled[appointment.appointment_key] = appointment.start
                past = appointment.end <= now
                booked = appointment.status in (AppointmentStatus.BOOKED, AppointmentStatus.NOSHOW)
                if appointment.appointment_key not in known and past and booked:
                    no_launch.append(
                        VisitRow(
                            appointment_key=appointment.appointment_key,
                            day=appointment.start.astimezone(UTC).date(),
                            endpoint_id=endpoint,
                            department_id=None,
                            scheduled_start=appointment.start,
                            start=None,
                            duration_seconds=None,
                            lobby_wait_seconds=None,
                            attendees=0,
                            status="no_show",
                            sms_sent=0,
                        )
                    )
        texts = Counter(
            m.appointment_key
            for m in self._messages(organisation, endpoints, since - SMS_LOOKBACK, until)
            if m.status in SENT
        )
        items = [
            VisitRow(
                appointment_key=s.appointment_key,
                day=datetime.strptime(s.day, "%Y%m%d").date(),
                endpoint_id=s.endpoint_id,
                department_id=s.department_id,
                scheduled_start=scheduled.get(s.appointment_key),
                start=s.start,
                duration_seconds=round((s.end - s.start).total_seconds()) if s.start and s.end else None,
                lobby_wait_seconds=s.lobby_wait_seconds,
                lobby_wait_estimated=s.lobby_wait_estimated,
                attendees=s.attendees,
                estimated_roles=s.estimated_roles,
                status=s.status,
                sms_sent=0,
            )
            for s in summaries
        ] + no_launch
        items = [row.model_copy(update={"sms_sent": texts[row.appointment_key]}) for row in items if filters.keeps(row)]
        items.sort(key=lambda r: (r.start or r.scheduled_start or since, r.appointment_key))
        zone = organisation.time_zone
        return VisitReport(range=span, time_zone=zone, filters=filters, totals=_totals(items), items=items)

    def sms(self, principal: Principal, span: ReportRange) -> SmsReport:
        organisation = self._organisation(principal)
        since, until = _moment(span.start), _moment(span.end + timedelta(days=1))
        by_type = {kind: SmsCounts() for kind in SMS_TYPES}
        reasons: Counter[str] = Counter()
        skipped: Counter[str] = Counter()
        confirmations = 0
        for message in self._messages(organisation, self._endpoint_ids(principal.tenant_id), since, until):
            confirmations += message.type == "confirmed"  # one answer per confirmed appointment (and version)
            counts = by_type.setdefault(message.type, SmsCounts())
            if message.status in SENT:
                counts.sent += 1
                counts.segments += message.segments or 0  # texts sent before segments were counted add none
            if message.status in ("delivered", "failed", "opted_out", "skipped"):
                setattr(counts, message.status, getattr(counts, message.status) + 1)
            if message.status == "failed":
                reasons[message.reason or "not given"] += 1
            if message.status == "skipped":
                skipped[message.reason or "not given"] += 1
        totals = SmsCounts(
            **{field: sum(getattr(c, field) for c in by_type.values()) for field in SmsCounts.model_fields}
        )
        return SmsReport(
            range=span,
            totals=totals,
            by_type=by_type,
            failure_reasons=dict(reasons),
            skip_reasons=dict(skipped),
            confirmations=confirmations,
        )

    def surveys(self, principal: Principal, span: ReportRange, endpoint_id: str | None = None) -> SurveyReport:
        organisation = self._organisation(principal)
        endpoints = [e for e in self._endpoint_ids(principal.tenant_id) if endpoint_id in (None, e)]
        return survey_report(self.tables, organisation, endpoints, span)

    def call_quality(
        self, principal: Principal, span: ReportRange, filters: VisitFilter | None = None
    ) -> CallQualityReport:
        organisation = self._organisation(principal)
        return call_quality_report(self.tables, organisation, span, filters or VisitFilter(), self.meeting_provider)


def _average(values: list[int]) -> int | None:
    return round(sum(values) / len(values)) if values else None


def _totals(items: list[VisitRow]) -> VisitTotals:
    outcomes = Counter(row.status for row in items)
    return VisitTotals(
        visits=len(items),
        completed=outcomes["completed"],
        no_show=outcomes["no_show"],
        in_progress=outcomes["in_progress"],
        average_duration_seconds=_average([r.duration_seconds for r in items if r.duration_seconds is not None]),
        average_lobby_wait_seconds=_average([r.lobby_wait_seconds for r in items if r.lobby_wait_seconds is not None]),
        lobby_waits_estimated=sum(1 for r in items if r.lobby_wait_seconds is not None and r.lobby_wait_estimated),
        visits_with_estimated_roles=sum(1 for r in items if r.estimated_roles),
        sms_sent=sum(r.sms_sent for r in items),
    )
