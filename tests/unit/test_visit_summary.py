"""A visit's report figures from its events: dropped connections, a call ended with people still in, no-shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.reports.summary import summarise
from shared.visits.models import ParticipantRole, VisitEvent, VisitEventKind

T0 = datetime(2026, 11, 20, 23, 50, tzinfo=UTC)


def event(
    minute: float, kind: VisitEventKind, who: str | None = None, role: ParticipantRole | None = None
) -> VisitEvent:
    return VisitEvent(
        appointment_key="k",
        id=f"{minute}:{kind}:{who}",
        endpoint_id="e",
        kind=kind,
        at=T0 + timedelta(minutes=minute),
        participant=who,
        role=role,
    )


def figures(*events: VisitEvent) -> tuple[object, ...]:
    summary = summarise(events, tenant_id="t", department_id=None, now=T0)
    assert summary is not None
    start = (summary.start - T0).total_seconds() / 60 if summary.start else None
    end = (summary.end - T0).total_seconds() / 60 if summary.end else None
    return start, end, summary.lobby_wait_seconds, summary.attendees, summary.status


def test_a_patient_who_drops_and_rejoins_is_one_visit_until_the_last_leave() -> None:
    assert figures(
        event(0, "participant_joined", "c", "clinician"),
        event(2, "participant_joined", "p", "patient"),
        event(5, "participant_left", "p", "patient"),
        event(5.5, "participant_left", "c", "clinician"),  # everyone gone for a moment
        event(6, "participant_joined", "p", "patient"),
        event(6.5, "participant_joined", "c", "clinician"),
        event(15, "participant_left", "c", "clinician"),
        event(16, "participant_left", "p", "patient"),
    ) == (2, 16, None, 2, "completed")


def test_a_call_ended_with_people_in_ends_the_visit_then() -> None:
    assert figures(
        event(0, "lobby_entered", "p", "patient"),
        event(1, "participant_joined", "c", "clinician"),
        event(1.5, "lobby_admitted", "p", "patient"),
        event(1.5, "participant_joined", "p", "patient"),
        event(12, "call_ended"),
    ) == (1.5, 12, 90, 2, "completed")


def test_without_both_a_clinician_and_a_patient_it_is_a_no_show_or_in_progress() -> None:
    assert (
        figures(event(0, "participant_joined", "c", "clinician"), event(9, "participant_left", "c", "clinician"))[4]
        == "no_show"
    )
    assert figures(event(0, "participant_joined", "p", "patient"))[4] == "in_progress"


def test_the_day_is_the_first_event_s_utc_day() -> None:
    summary = summarise([event(15, "call_started"), event(5, "call_started")], tenant_id="t", department_id="D", now=T0)
    assert summary is not None and summary.day == "20261120" and summary.department_id == "D"
