"""A visit's participants, for the organisation's admins or for the clinician whose EHR launch opened it, and
that clinician's visit panel (the page their launch lands on when their endpoint says so)."""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path
from typing import Any

import azure.functions as func

from functions._http import html_page, status_of
from functions.portal.parameters import VisitPath
from functions.portal.registry import Call, api
from shared.core.errors import DomainError
from shared.visits.invites import Inviter
from shared.visits.models import InviteCreate, InviteList, InvitePublic, LateNoticeCreate, LateNoticePublic
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
    "POST",
    "visits/{appointment_key}/invites",
    summary="Invite a guest or an interpreter to a visit, by a text or a link to copy",
    description="A join link of the role, texted to the number given (kept only until the link stops working, as "
    "patients' numbers are; it must be a mobile number of the organisation's SMS country) or, without one, "
    "answered for the caller to copy. The invitee joins from a browser and waits in the lobby until admitted. "
    "For your organisation's admins (bearer token) or the clinician whose EHR launch opened the visit (its "
    "visit_session cookie). Audited, without the number. 404 before the visit's meeting exists; 409 when the "
    "text cannot go (texts not set up, the number texted STOP).",
    tag="visits",
    auth="visit",
    request=InviteCreate,
    response=InvitePublic,
    status=201,
    errors=(404, 409, 422),
    parameters=VisitPath,
)
def invite_to_visit(call: Call[InviteCreate]) -> InvitePublic:
    return call.runtime.visits.invites.invite(_inviter(call), call.param("appointment_key"), call.body)


@api.route(
    "GET",
    "visits/{appointment_key}/invites",
    summary="A visit's guest and interpreter invites",
    tag="visits",
    auth="visit",
    response=InviteList,
    parameters=VisitPath,
)
def visit_invites(call: Call[None]) -> InviteList:
    return call.runtime.visits.invites.list(_inviter(call), call.param("appointment_key"))


@api.route(
    "POST",
    "visits/{appointment_key}/late",
    summary="Text the waiting patient that the clinician will be about 5, 10 or 15 minutes late",
    description="For the clinician whose EHR launch opened the visit (its visit_session cookie) only: each booked "
    "patient of the visit with a mobile number gets one text in their language. At most one per visit every 5 "
    "minutes (409 says when the next may go); 409 too when there is no patient to text or texts are not set up. "
    "Audited, without the number.",
    tag="visits",
    auth="visit",
    request=LateNoticeCreate,
    response=LateNoticePublic,
    status=201,
    errors=(409,),
    parameters=VisitPath,
)
def running_late(call: Call[LateNoticeCreate]) -> LateNoticePublic:
    return call.runtime.visits.running_late.notify(call.session, call.param("appointment_key"), call.body)


def _inviter(call: Call[Any]) -> Inviter:
    return Inviter(session=call.session) if call.session is not None else Inviter(principal=call.principal)


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
