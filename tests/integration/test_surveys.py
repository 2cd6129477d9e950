"""Post-visit surveys (issue 33 item 5) through the real app: an appointment from a signed HL7 message, the
patient's join link into the meeting (the Graph stub), Graph's call events at our webhook, the survey's text
through the dispatcher into the outbox, the survey page and its answers, and the report by endpoint and
department, as JSON and CSV."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from aiohttp import web

from dev.host.serving import ServerThread
from shared.messaging.survey_models import VisitSurveyRepository
from shared.runtime import get_runtime
from shared.setup.tables import OrganisationRepository
from shared.visits.models import appointment_key
from tests.conftest import AppHost, GraphMeetings
from tests.support.clinic import PHONE, Clinic, deliver
from tests.support.hl7 import siu
from tests.support.texts import sent_texts
from tests.support.visits import follow_join_link, join_link

SURVEY_LINK = re.compile(r"https?://\S+/api/survey\S*#[A-Za-z0-9_.-]+")


@pytest.fixture
def server() -> Iterator[ServerThread]:
    with ServerThread(web.Application()) as running:  # a loop to run the Graph stub's client on
        yield running


def surveys_on(clinic: Clinic, on: bool = True) -> None:
    settings = {"clinic_name": "North Clinic", "sender_number": clinic.sender, "survey_after_visit": on}
    answer = clinic.tenant.call("PUT", f"portal/endpoints/{clinic.endpoint}/sms-settings", json=settings)
    assert answer.status_code == 200, answer.text
    assert answer.json()["survey_after_visit"] is on


def visit(app: AppHost, clinic: Clinic, graph: GraphMeetings, server: ServerThread, language: str | None = None) -> str:
    """The appointment is booked (HL7), its patient follows their join link, and the call runs and ends: the
    subscription's ID."""
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
    deliver(app, clinic, siu("S12", start, language=language))
    key = appointment_key(clinic.tenant.id, clinic.endpoint, "csn:778899001")
    before = graph.stub.meeting_subscriptions()
    assert follow_join_link(httpx.Client(), join_link(clinic.tenant, clinic.endpoint, start, key)).status_code == 302
    (subscription,) = graph.stub.meeting_subscriptions() - before
    clinician = {"Id": "p-c", "Identity": {"User": {"Id": "aad-c", "TenantId": clinic.tenant.id}}}
    patient = {"Id": "p-p", "Identity": {"Guest": {"Id": "guest-p", "DisplayName": "Pat Doe"}}}
    for data in (
        event("CallStarted"),
        event("CallRosterUpdate", joined=[clinician]),
        event("CallRosterUpdate", joined=[patient]),
        event("CallRosterUpdate", exited=[patient, clinician]),
        event("CallEnded"),
    ):
        assert server.run(graph.stub.notify(subscription, data)) == 202
    app.pump()
    return subscription


def event(kind: str, joined: list[dict[str, Any]] = (), exited: list[dict[str, Any]] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    data: dict[str, Any] = {"eventType": f"Microsoft.Communication.{kind}", "eventDateTime": iso(datetime.now(UTC))}
    if kind == "CallRosterUpdate":
        data |= {"activeParticipants@joined": list(joined), "activeParticipants@exited": list(exited)}
    return data


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def survey_texts(clinic: Clinic) -> list[str]:
    outbox = sent_texts(clinic.tenant.id)
    return [m["body"] for m in outbox if SURVEY_LINK.search(m["body"])]


def answer(link: str, **fields: str) -> httpx.Response:
    parts = urlsplit(link)
    return httpx.post(parts._replace(fragment="", query="").geturl(), data={"token": parts.fragment, **fields})


def test_after_the_call_the_patient_answers_once_and_the_report_counts_it(
    app: AppHost, clinic: Clinic, graph_meetings: GraphMeetings, server: ServerThread
) -> None:
    surveys_on(clinic)
    subscription = visit(app, clinic, graph_meetings, server)
    (text,) = survey_texts(clinic)
    assert text.startswith("North Clinic: how was your video visit?")
    match = SURVEY_LINK.search(text)
    assert match is not None
    link = match.group(0)
    parts = urlsplit(link)
    assert parts.query == "" and len(parts.fragment) < 100  # English; a compact token, in the fragment

    page = httpx.get(parts._replace(fragment="").geturl())
    assert page.status_code == 200 and "How was the video visit?" in page.text
    assert "script-src 'sha256-" in page.headers["Content-Security-Policy"]

    missing = answer(link, rating="4")
    assert missing.status_code == 422 and "Choose a rating from 1 to 5 and yes or no" in missing.text
    assert parts.fragment in missing.text  # the questions again, with the link's token: nothing lost
    saved = answer(link, rating="4", again="yes")
    assert saved.status_code == 200 and "Your answers were saved" in saved.text
    assert answer(link, rating="4", again="yes").status_code == 200  # the same answers again: fine
    changed = answer(link, rating="1", again="no")
    assert changed.status_code == 409 and "answered already" in changed.text
    forged = answer(link[:-4] + ("AAAA" if not link.endswith("AAAA") else "BBBB"), rating="5", again="yes")
    assert forged.status_code == 400 and "not valid" in forged.text

    # The call ends again (someone rejoined and left): no second text.
    assert server.run(graph_meetings.stub.notify(subscription, event("CallStarted"))) == 202
    assert server.run(graph_meetings.stub.notify(subscription, event("CallEnded"))) == 202
    app.pump()
    assert len(survey_texts(clinic)) == 1

    report = clinic.tenant.call("GET", "portal/reports/surveys?days=7")
    assert report.status_code == 200, report.text
    body = report.json()
    (row,) = body["items"]
    assert (row["endpoint_id"], row["department_id"], row["sent"], row["answered"]) == (clinic.endpoint, None, 1, 1)
    assert (row["response_rate"], row["average_rating"], row["would_choose_video_again"]) == (1.0, 4.0, 1.0)
    assert "by endpoint only" in body["note"]
    exported = clinic.tenant.call("GET", "portal/reports/surveys?days=7&format=csv")
    assert exported.headers["Content-Type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["endpoint_id"], r["sent"], r["answered"], r["average_rating"]) for r in lines] == [
        (clinic.endpoint, "1", "1", "4.0"),
        ("all", "1", "1", "4.0"),
    ]
    # Kept with the appointment key only: no number, no name.
    organisation = get_runtime().platform.tables.control(OrganisationRepository).find(clinic.tenant.id, "organisation")
    assert organisation is not None
    rows = list(get_runtime().platform.tables.data(organisation, VisitSurveyRepository).iterate(clinic.endpoint))
    stored = " ".join(r.model_dump_json() for r in rows)
    assert PHONE not in stored and PHONE[2:] not in stored and "Pat" not in stored
    assert clinic.tenant.as_approver("GET", "portal/reports/surveys?days=7").status_code == 403


def test_the_survey_speaks_the_patients_language(
    app: AppHost, clinic: Clinic, graph_meetings: GraphMeetings, server: ServerThread
) -> None:
    surveys_on(clinic)
    visit(app, clinic, graph_meetings, server, language="SPA")
    (text,) = survey_texts(clinic)
    assert "¿qué tal su consulta por video?" in text
    match = SURVEY_LINK.search(text)
    assert match is not None and "?lang=es#" in match.group(0)
    page = httpx.get(urlsplit(match.group(0))._replace(fragment="").geturl())
    assert '<html lang="es">' in page.text and "¿Volvería a elegir una consulta por video?" in page.text
    saved = answer(match.group(0), rating="5", again="no")
    assert saved.status_code == 200 and "Sus respuestas se guardaron" in saved.text


def test_no_survey_where_the_endpoint_does_not_turn_it_on(
    app: AppHost, clinic: Clinic, graph_meetings: GraphMeetings, server: ServerThread
) -> None:
    surveys_on(clinic, on=False)
    visit(app, clinic, graph_meetings, server)
    assert survey_texts(clinic) == []
    report = clinic.tenant.call("GET", "portal/reports/surveys?days=7").json()
    assert report["items"] == [] and report["totals"]["sent"] == 0 and report["totals"]["response_rate"] is None
