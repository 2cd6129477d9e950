"""`make demo`'s visit: the clinician launches from the sandbox EHR and signs in to Microsoft 365 once (the local
issuer plays Entra ID), so the meeting is theirs; the patient launches from the portal and waits in the lobby; the
clinician admits them; both leave. Then the reports show the visit's lobby wait and its call quality (the dev
meeting page's call record: loopback figures, no media flows locally), and the patient answers the survey texted
after the call."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from dev.browser import to_ehr

CLINICIAN = "dr.avery@contoso.example"
LOBBY_SECONDS = 3  # how long the patient waits before the clinician admits them


def _launch_links(ehr: str) -> tuple[str, str]:
    """The sandbox EHR's first appointment: its clinician's and its patient's "Begin virtual visit" URLs."""
    page = httpx.get(f"{ehr}/ehr", timeout=10).text
    links = [html.unescape(link) for link in re.findall(r"<a href='([^']+)' target='_blank'>Begin virtual visit", page)]
    return links[0], links[1]


def _launch(browser: httpx.Client, url: str) -> httpx.Response:
    """The browser's round trip through the EHR's authorize: the connector's answer to the EHR's redirect back."""
    back = to_ehr(browser.get(url))
    return browser.get(back.headers["Location"])


def _room(meeting_url: str) -> str:
    return urlsplit(meeting_url).path.rstrip("/")


def walk_visit(
    api: str,
    ehr: str,
    call: Callable[..., httpx.Response],
    endpoint_id: str,
    *,
    texts: Callable[[], list[dict[str, Any]]],
) -> None:
    """`texts`: the texts sent, links whole (the dev host's /dev/outbox)."""
    clinician_url, patient_url = _launch_links(ehr)
    call("PATCH", f"endpoints/{endpoint_id}", json={"virtual_appointment_links": True})
    with httpx.Client(base_url=api, timeout=30) as clinician, httpx.Client(base_url=api, timeout=30) as patient:
        answer = _launch(clinician, clinician_url)
        signed_in = False
        if answer.status_code == 302 and "/oauth2/v2.0/authorize" in answer.headers["Location"]:
            sign_in = answer.headers["Location"]  # the clinician's first launch: Microsoft 365, once
            back = clinician.post(sign_in, data={"username": CLINICIAN})
            answer = clinician.get(back.headers["Location"])
            signed_in = True
        meeting = answer.headers["Location"]
        print(f"   the clinician {'signed in to Microsoft 365 once as ' + CLINICIAN if signed_in else 'was linked'}")
        room = _room(meeting)
        organizer = clinician.get(f"{room}/state").json().get("organizer")
        links = call("GET", f"endpoints/{endpoint_id}/clinicians").json()["items"]
        linked = next((c for c in links if c["linked"]), None)
        mine = linked is not None and organizer == linked["organizer_id"]
        print(f"   their meeting's organizer: {organizer} ({'the clinician' if mine else 'the service organizer'})")
        sent_to = _launch(patient, patient_url).headers["Location"]
        print(f"   the patient is sent to the same meeting: {_room(sent_to) == room}")
        virtual = "via=virtual-appointment" in sent_to
        print(f"   through its Teams Virtual Appointment link (mobile-browser join): {virtual}")
        _late_notice(clinician, texts)
        doctor = clinician.post(f"{room}/join", json={"role": "clinician"}).json()
        guest = patient.post(f"{room}/join", json={"role": "guest"}).json()
        print(f"   the patient waits in the lobby ({LOBBY_SECONDS} s), then the clinician admits them")
        time.sleep(LOBBY_SECONDS)
        clinician.post(f"{room}/admit", json={"by": doctor["id"], "participant": guest["id"]})
        time.sleep(1)
        patient.post(f"{room}/leave", json={"id": guest["id"]})
        clinician.post(f"{room}/leave", json={"id": doctor["id"]})
    _reports(call)
    answer_survey(api, call, texts)


def answer_survey(api: str, call: Callable[..., httpx.Response], texts: Callable[[], list[dict[str, Any]]]) -> None:
    """The call ended: the patient's survey text (from the outbox), answered on its page; the survey report."""
    link = None
    for _ in range(40):  # the dev host pumps participant-events and sms-outbound every couple of seconds
        sent = texts()
        link = next((m.group(0) for t in sent if (m := re.search(r"\S+/api/survey\S*#\S+", t["body"]))), None)
        if link:
            break
        time.sleep(0.5)
    if link is None:
        print("   no survey text yet: see the outbox in the portal in a moment")
        return
    parts = urlsplit(link)
    page = f"{api}{parts.path}"
    answered = httpx.post(page, data={"token": parts.fragment, "rating": "5", "again": "yes"}, timeout=30)
    print(f"   the patient answers the survey texted after the call (5 of 5, video again: yes): {answered.status_code}")
    today = datetime.now(UTC).date().isoformat()
    report = call("GET", "reports/surveys", params={"start": today, "end": today}).json()["totals"]

    def share(value: float | None) -> str:
        return f"{round(100 * value)} %" if value is not None else "-"

    print(
        f"   survey report: {report['sent']} sent, {report['answered']} answered ({share(report['response_rate'])}),"
        f" average rating {report['average_rating']},"
        f" would choose video again {share(report['would_choose_video_again'])}"
    )


def _late_notice(clinician: httpx.Client, texts: Callable[[], list[dict[str, Any]]]) -> None:
    """The clinician taps "10 minutes late" on their visit panel: the patient gets a text."""
    path = next((c.path for c in clinician.cookies.jar if c.name == "visit_session"), None)
    answer = clinician.post(f"{path}late", json={"minutes": 10}) if path else None
    if answer is None or answer.status_code != 201:
        print(f"   no late notice: {answer.json().get('detail') if answer is not None else 'no visit session'}")
        return
    for _ in range(30):  # the dev host pumps the sms-outbound queue every couple of seconds
        outbox = texts()
        late = [m for m in outbox if "minutes late" in m["body"] or "minutos tarde" in m["body"]]
        if late:
            print(f"   running late, one tap on the visit panel texts: {late[0]['body']}")
            return
        time.sleep(0.5)
    print("   the late notice is queued: see the outbox in the portal in a moment")


def _reports(call: Callable[..., httpx.Response]) -> None:
    today = datetime.now(UTC).date().isoformat()
    query = {"start": today, "end": today}
    quality: dict[str, Any] = {}
    visit: dict[str, Any] = {}
    for _ in range(40):  # the dev host pumps participant-events and call-records every couple of seconds
        visits = call("GET", "reports/visits", params=query).json()["items"]
        visit = next((v for v in visits if v["lobby_wait_seconds"] is not None), {})
        quality = call("GET", "reports/call-quality", params=query).json()
        if visit and quality["items"]:
            break
        time.sleep(0.5)
    print(f"   visits report: lobby wait {visit.get('lobby_wait_seconds')} s, status {visit.get('status')}")
    for row in quality.get("items", []):
        print(
            f"   call quality, {row['role']}: jitter {row['average_jitter_ms']} ms, loss "
            f"{row['average_packet_loss_percent']} %, round trip {row['average_round_trip_ms']} ms, "
            f"{'poor' if row['poor'] else 'good'} ({row['streams']} streams)"
        )
    if not quality.get("items"):
        print("   no call record yet: see the reports page in a moment")
