"""A visit's participants, for the organisation's admins or for the clinician whose EHR launch opened it, and
that clinician's visit panel (the page their launch lands on when their endpoint says so)."""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path

import azure.functions as func

from functions._http import html_page, status_of
from functions.portal.parameters import VisitPath
from functions.portal.registry import Call, api
from shared.core.errors import DomainError
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


@api.route(
    "GET",
    "visits/{appointment_key}/panel",
    summary="The clinician's visit panel: who is connected, by role and since when, and the meeting a click away",
    description="Where a clinician's EHR launch lands when its endpoint's provider_landing is panel. It opens the "
    "meeting in Teams at once, and updates who is connected every 2 seconds. For the visit_session cookie of that "
    "launch only; anything else gets a page saying to start the visit from the EHR.",
    tag="visits",
    auth="session",
    response_kind="any",
    parameters=VisitPath,
    errors_as="html",
    advice="Start the visit from the EHR again.",
)
def visit_panel(call: Call[None]) -> func.HttpResponse:
    if call.session is None:
        return html_page(
            "Start the visit from the EHR",
            "This page belongs to a clinician's virtual visit: open it with the EHR's virtual visit button.",
            status=401,
        )
    try:
        link = call.runtime.visits.visit_meetings.for_session(call.session, call.param("appointment_key"))
    except DomainError as error:
        return html_page("This visit panel cannot be shown", error.detail, status=status_of(error))
    page = _panel_template().replace("{{JOIN_URL}}", html.escape(link.join_url, quote=True))
    return func.HttpResponse(page, mimetype="text/html", charset="utf-8", headers={"Cache-Control": "no-store"})


@cache
def _panel_template() -> str:
    return (Path(__file__).parents[1] / "pages" / "visit_panel.html").read_text(encoding="utf-8")
