"""Usage reports: visits (from their meeting events), texts, call quality. Times in UTC, no names."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from shared.visits.models import ParticipantRole

VisitOutcome = Literal["completed", "no_show", "in_progress"]
PRESETS = (7, 30, 90)
"""The report periods offered: the days up to today."""
MAX_DAYS = 366
"""The longest custom range."""


class VisitSummary(BaseModel):
    """One visit's figures, kept up to date by the participant-events processor (data plane), keyed by the UTC
    day of its first event so that a report reads only the days it covers."""

    tenant_id: str
    day: str  # YYYYMMDD
    appointment_key: str
    endpoint_id: str
    department_id: str | None = None
    first_event_at: datetime
    start: datetime | None = Field(default=None, description="When a clinician and a patient were first both in.")
    end: datetime | None = Field(default=None, description="When the last one left, after the start.")
    lobby_wait_seconds: int | None = None
    lobby_wait_estimated: bool = Field(
        default=False,
        description="From when the connector sent the patient to the meeting to their first appearance in its "
        "roster, as meeting services that report no lobby events (Teams) allow.",
    )
    attendees: int = 0
    clinicians: int = 0
    patients: int = 0
    guests: int = 0
    estimated_roles: list[ParticipantRole] = Field(
        default_factory=list,
        description="The roles of attendees the connector could not tell for certain (one per attendee): "
        "participants no opened link explains, or whose links' roles were mixed when they joined.",
    )
    status: VisitOutcome
    updated_at: datetime


class VisitRow(BaseModel):
    appointment_key: str
    day: date = Field(
        description="The UTC day the visit counts for: of its first meeting event, or of the "
        "appointment when nobody connected."
    )
    endpoint_id: str
    department_id: str | None
    scheduled_start: datetime | None
    start: datetime | None
    duration_seconds: int | None
    lobby_wait_seconds: int | None
    lobby_wait_estimated: bool = Field(default=False, description="The lobby wait is an estimate (see VisitSummary).")
    attendees: int
    estimated_roles: list[ParticipantRole] = Field(
        default_factory=list, description="Attendees' roles that are estimates (see VisitSummary), one per attendee."
    )
    status: VisitOutcome
    sms_sent: int


class VisitTotals(BaseModel):
    visits: int
    completed: int
    no_show: int
    in_progress: int
    average_duration_seconds: int | None
    average_lobby_wait_seconds: int | None
    lobby_waits_estimated: int = Field(default=0, description="How many of the lobby waits averaged are estimates.")
    visits_with_estimated_roles: int = Field(default=0, description="Visits where some attendee's role is an estimate.")
    sms_sent: int


class ReportRange(BaseModel):
    start: date = Field(description="First UTC day covered.")
    end: date = Field(description="Last UTC day covered (inclusive).")


class VisitFilter(BaseModel):
    """Narrows the visits report (and its totals) to one FHIR endpoint, department or outcome."""

    endpoint_id: str | None = Field(default=None, max_length=64)
    department_id: str | None = Field(default=None, max_length=200)
    status: VisitOutcome | None = None

    def keeps(self, row: VisitRow) -> bool:
        return (
            (self.endpoint_id is None or row.endpoint_id == self.endpoint_id)
            and (self.department_id is None or row.department_id == self.department_id)
            and (self.status is None or row.status == self.status)
        )


class VisitReport(BaseModel):
    range: ReportRange
    time_zone: str = Field(default="UTC", description="The organisation's time zone: the CSV gives times in it.")
    filters: VisitFilter = Field(default_factory=VisitFilter)
    totals: VisitTotals
    items: list[VisitRow]


class SmsCounts(BaseModel):
    sent: int = 0
    segments: int = Field(default=0, description="SMS segments of the texts sent (carriers bill each one).")
    delivered: int = 0
    failed: int = 0
    opted_out: int = 0
    skipped: int = Field(default=0, description="Not sent: no usable number, a number of another country, texts off.")


class SmsReport(BaseModel):
    range: ReportRange
    totals: SmsCounts
    by_type: dict[str, SmsCounts] = Field(
        description="scheduled, rescheduled, cancelled, reminder (reminder2, reminder3), invite, confirmed."
    )
    failure_reasons: dict[str, int] = Field(
        default_factory=dict, description="Texts that failed, by reason (the provider's answer, or the carrier's)."
    )
    skip_reasons: dict[str, int] = Field(
        default_factory=dict, description="Texts not sent, by reason (a number of another country among them)."
    )
    confirmations: int = Field(default=0, description="Visits patients confirmed by replying C or YES (SÍ).")


QualityRole = Literal["clinician", "patient", "guest"]


class QualityFigures(BaseModel):
    """Numbers of a call's streams (both directions): averages of the streams' averages, worst of their worst."""

    streams: int = 0
    poor_streams: int = Field(default=0, description="Streams poor by the Call Quality Dashboard's thresholds.")
    average_jitter_ms: float | None = None
    worst_jitter_ms: float | None = None
    average_packet_loss_percent: float | None = None
    worst_packet_loss_percent: float | None = None
    average_round_trip_ms: float | None = None
    worst_round_trip_ms: float | None = None
    average_audio_degradation: float | None = Field(
        default=None, description="Network MOS degradation of audio (0 to 5; lower is better)."
    )


class CallQuality(QualityFigures):
    """One role's figures in one Teams call record of a visit (data plane), keyed by the call's UTC day."""

    tenant_id: str
    day: str  # YYYYMMDD
    appointment_key: str
    role: QualityRole
    record_id: str
    endpoint_id: str
    call_start: datetime
    updated_at: datetime


class CallQualityRow(QualityFigures):
    appointment_key: str
    day: date
    endpoint_id: str
    department_id: str | None
    role: QualityRole
    poor: bool = Field(description="Whether any of this role's streams was poor.")


class CallQualityDay(BaseModel):
    day: date
    calls: int
    poor_calls: int


class CallQualityReport(BaseModel):
    range: ReportRange
    filters: VisitFilter = Field(default_factory=VisitFilter)
    provider: str
    reported: bool = Field(description="Whether the meeting provider reports call quality here.")
    detail: str
    calls: int = Field(default=0, description="Visits with a call record in the range.")
    poor_calls: int = Field(default=0, description="Of those, visits with a poor stream in any role.")
    by_role: dict[str, QualityFigures] = Field(default_factory=dict, description="clinician, patient, guest.")
    by_day: list[CallQualityDay] = Field(default_factory=list)
    items: list[CallQualityRow] = Field(default_factory=list, description="One row per visit and role.")
