"""A visit's report figures from its events (pure): start when a clinician and a patient were first both in,
end when the last one left after that, the patient's lobby wait, who attended (and whose role is an estimate),
completed or no-show."""

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
    guessed: set[str] = set()  # attendees whose role is an estimate
    start: datetime | None = None
    end: datetime | None = None
    lobby_entered: datetime | None = None
    lobby_wait: float | None = None
    sent: datetime | None = None  # the last time the connector sent the patient to the meeting before they appeared
    first_patient: datetime | None = None
    for event in ordered:
        if event.kind == "patient_sent" and first_patient is None:
            sent = event.at
            continue
        if event.kind == "participant_joined" and event.role == "patient" and first_patient is None:
            first_patient = event.at
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
            if event.estimate:
                guessed.add(event.participant)
            if start is None and {"clinician", "patient"} <= set(present.values()):
                start = event.at
            if start is not None:
                end = None  # someone is in again: the visit goes on
        elif event.kind == "participant_left" and present.pop(event.participant, None) is not None:
            if start is not None and not present:
                end = event.at
    estimated = False
    if lobby_wait is None and sent is not None and first_patient is not None and first_patient >= sent:
        # No lobby events (Teams reports none): from when we sent the patient to their first appearance.
        lobby_wait, estimated = (first_patient - sent).total_seconds(), True
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
        lobby_wait_estimated=estimated,
        attendees=len(attended),
        clinicians=roles.count("clinician"),
        patients=roles.count("patient"),
        guests=roles.count("guest"),
        estimated_roles=sorted(attended[p] for p in guessed),
        status=status,
        updated_at=now,
    )
