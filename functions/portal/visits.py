"""A visit's participants, for the organisation's admins or for the clinician whose EHR launch opened it."""

from __future__ import annotations

from functions.portal.parameters import VisitPath
from functions.portal.registry import Call, api
from shared.writeback.models import ParticipantStatus


@api.route(
    "GET",
    "visits/{appointment_key}/participants",
    summary="Who is connected to a visit now, by role and since when, and who waits in the lobby",
    description="From the meeting's call events; no names. For your organisation's admins (bearer token), or "
    "for the clinician whose EHR launch opened the visit (the visit_session cookie that launch set).",
    tag="visits",
    auth="visit",
    response=ParticipantStatus,
    parameters=VisitPath,
)
def visit_participants(call: Call[None]) -> ParticipantStatus:
    events = call.runtime.writeback.participant_events
    if call.session is not None:
        return events.status_for_session(call.session, call.param("appointment_key"))
    return events.status(call.principal, call.param("appointment_key"))
