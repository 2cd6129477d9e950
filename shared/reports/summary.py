"""A visit's report figures from its events (pure): start when a clinician and a patient were first both in,
end when the last one left after that, the patient's lobby wait, who attended, completed or no-show."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from shared.reports.models import VisitOutcome, VisitSummary
from shared.visits.models import ParticipantRole, VisitEvent


def summarise(
    events: Iterable[VisitEvent], *, tenant_id: str, department_id: str | None, now: datetime
) -> VisitSummary | None:
    ordered = sorted(events, key=lambda e: (e.at, e.id))
    if not ordered:
        return None
    present: dict[str, ParticipantRole] = {}
    attended: dict[str, ParticipantRole] = {}
    start: datetime | None = None
    end: datetime | None = None
    lobby_entered: datetime | None = None
    lobby_wait: float | None = None
    for event in ordered:
        if event.kind == "call_ended":
            if start is not None and present:
                end = event.at
            present.clear()
        elif event.kind == "lobby_entered" and event.role == "patient" and lobby_entered is None:
            lobby_entered = event.at
        elif event.kind in ("lobby_admitted", "participant_joined") and event.role == "patient":
            if lobby_entered is not None and lobby_wait is None:
                lobby_wait = (event.at - lobby_entered).total_seconds()
        if event.participant is None or event.role is None:
            continue
        if event.kind == "participant_joined":
            present[event.participant] = attended[event.participant] = event.role
            if start is None and {"clinician", "patient"} <= set(present.values()):
                start = event.at
            if start is not None:
                end = None  # someone is in again: the visit goes on
        elif event.kind == "participant_left" and present.pop(event.participant, None) is not None:
            if start is not None and not present:
                end = event.at
    roles = list(attended.values())
    status: VisitOutcome = "completed" if start is not None else ("in_progress" if present else "no_show")
    first = ordered[0]
    return VisitSummary(
        tenant_id=tenant_id,
        day=first.at.strftime("%Y%m%d"),
        appointment_key=first.appointment_key,
        endpoint_id=first.endpoint_id,
        department_id=department_id,
        first_event_at=first.at,
        start=start,
        end=end,
        lobby_wait_seconds=round(lobby_wait) if lobby_wait is not None else None,
        attendees=len(attended),
        clinicians=roles.count("clinician"),
        patients=roles.count("patient"),
        guests=roles.count("guest"),
        status=status,
        updated_at=now,
    )
