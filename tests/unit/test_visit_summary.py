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


def test_without_lobby_events_the_wait_is_estimated_from_when_the_patient_was_sent() -> None:
    """Teams reports no lobby: from the last time the connector sent the patient (launch, text link) before they
    first appear in the roster; lobby events, when the meeting service reports them, are measured instead."""
    events = (
        event(0, "patient_sent", role="patient"),
        event(1, "participant_joined", "c", "clinician"),
        event(2, "patient_sent", role="patient"),  # the patient followed the link again
        event(5, "participant_joined", "p", "patient"),
        event(9, "patient_sent", role="patient"),  # after they were in: not a wait
        event(20, "participant_left", "p", "patient"),
    )
    summary = summarise(events, tenant_id="t", department_id=None, now=T0)
    assert summary is not None and (summary.lobby_wait_seconds, summary.lobby_wait_estimated) == (180, True)
    measured = summarise(
        (*events, event(2.5, "lobby_entered", "p", "patient"), event(4, "lobby_admitted", "p", "patient")),
        tenant_id="t",
        department_id=None,
        now=T0,
    )
    assert measured is not None and (measured.lobby_wait_seconds, measured.lobby_wait_estimated) == (90, False)
    never_came = summarise(events[:3], tenant_id="t", department_id=None, now=T0)
    assert never_came is not None and never_came.lobby_wait_seconds is None
