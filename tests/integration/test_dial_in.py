"""Dial-in: when Graph's meeting has audio conferencing (the Graph stub answers `audioConferencing`, as Graph does
for an organizer with it), its toll number and conference ID are kept with the meeting, texts sent once the meeting
exists offer them, and the join page shows them beside the video link. Without it, nothing changes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from dev.fakes.sandbox_ehr import SAMPLE_APPOINTMENTS, SandboxEhr
from shared.runtime import get_runtime
from shared.visits.models import appointment_key
from shared.visits.providers import DialIn
from shared.visits.tables import MeetingLinkRepository
from tests.conftest import AppHost, GraphMeetings
from tests.support.clinic import Clinic, deliver
from tests.support.hl7 import siu
from tests.support.texts import sent_texts
from tests.support.visits import JOIN_LINK, launch

FOLLOW_UP = SAMPLE_APPOINTMENTS[0]
AUDIO = {
    "tollNumber": "+1 217-555-0142",
    "tollFreeNumber": "",
    "conferenceId": "481516234",
    "dialinUrl": "https://dialin.teams.microsoft.com/local",
}


@pytest.fixture
def audio(graph_meetings: GraphMeetings) -> Iterator[GraphMeetings]:
    graph_meetings.stub.audio_conferencing = AUDIO
    yield graph_meetings
    graph_meetings.stub.audio_conferencing = None


def test_texts_and_the_join_page_offer_the_meetings_phone_number(
    app: AppHost, http: httpx.Client, clinic: Clinic, sandbox: SandboxEhr, audio: GraphMeetings
) -> None:
    start = datetime.now(UTC) + timedelta(minutes=5)
    deliver(app, clinic, siu("S12", start))
    answer, _ = launch(http, sandbox, FOLLOW_UP, "provider")  # the meeting is made: Graph names its dial-in
    assert answer.status_code == 302
    key = appointment_key(clinic.tenant.id, clinic.endpoint, f"csn:{FOLLOW_UP.csn}")
    runtime = get_runtime()
    organisation = runtime.setup.lookups.organisation(clinic.tenant.id)
    assert organisation is not None
    stored = runtime.platform.tables.data(organisation, MeetingLinkRepository).get(clinic.endpoint, key)
    assert stored.dial_in is not None and stored.dial_in.number == "+1 217-555-0142"

    # The visit moves: the new time's text offers the phone number too.
    deliver(app, clinic, siu("S13", start + timedelta(minutes=10), sent=datetime.now(UTC) + timedelta(seconds=5)))
    outbox = sent_texts(clinic.tenant.id)
    moved = next(m["body"] for m in outbox if "changed" in m["body"])
    assert moved.endswith("No data or camera? Call +1 217-555-0142 and enter 481516234#."), moved
    booked = next(m["body"] for m in outbox if "booked" in m["body"])
    assert "Call" not in booked  # sent before the meeting existed

    link = re.search(JOIN_LINK, moved)
    assert link is not None
    page = httpx.post(f"{app.server.url}/api/join", data={"token": link.group(1)})
    assert page.status_code == 200 and "tel:+12175550142,,481516234%23" in page.text
    assert "teams.microsoft.com" in page.text and "481516234#" in page.text
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]


def test_without_audio_conferencing_the_link_goes_straight_to_the_meeting(
    app: AppHost, http: httpx.Client, clinic: Clinic, sandbox: SandboxEhr, graph_meetings: GraphMeetings
) -> None:
    deliver(app, clinic, siu("S12", datetime.now(UTC) + timedelta(minutes=5)))
    assert launch(http, sandbox, FOLLOW_UP, "provider")[0].status_code == 302
    body = sent_texts(clinic.tenant.id)[0]["body"]
    link = re.search(JOIN_LINK, body)
    assert link is not None and "Call" not in body
    assert httpx.post(f"{app.server.url}/api/join", data={"token": link.group(1)}).status_code == 302


def test_graphs_audio_conferencing_is_read_only_when_it_can_be_dialled() -> None:
    assert DialIn.of(AUDIO) == DialIn("481516234", "+1 217-555-0142", None, "https://dialin.teams.microsoft.com/local")
    assert DialIn.of({"conferenceId": "1", "tollNumber": " "}) is None  # no number to call
    assert DialIn.of({"tollNumber": "+1 217-555-0142"}) is None  # no conference ID
    assert DialIn.of(None) is None and DialIn.of("x") is None
