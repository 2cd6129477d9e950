"""Guests and interpreters invited to a visit, through the real app: the clinician's visit session (from a sandbox
EHR launch) or an admin's token, the text through the outbox and the dispatcher, the join link into the lobby,
the audit log, and the number deleted once the link has stopped working."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from dev.fakes.sandbox_ehr import SAMPLE_APPOINTMENTS, SandboxEhr
from shared.core.settings import Geography
from shared.messaging.models import OptOut
from shared.messaging.tables import OptOutRepository
from shared.runtime import get_runtime
from shared.scheduling.retention import PhoneRetention
from shared.visits.models import appointment_key
from tests.conftest import AppHost, GraphMeetings
from tests.support.clinic import Clinic
from tests.support.clock import FakeClock
from tests.support.portal import problem
from tests.support.texts import sent_texts
from tests.support.visits import JOIN_LINK, follow_join_link, launch

FOLLOW_UP = SAMPLE_APPOINTMENTS[0]


def started(http: httpx.Client, clinic: Clinic, sandbox: SandboxEhr) -> tuple[str, httpx.Client]:
    """The clinician launched the visit: its key, and their browser (holding the visit_session cookie)."""
    answer, _ = launch(http, sandbox, FOLLOW_UP, "provider")
    assert answer.status_code == 302
    return appointment_key(clinic.tenant.id, clinic.endpoint, f"csn:{FOLLOW_UP.csn}"), http


def test_a_clinician_texts_an_interpreter_a_link_into_the_lobby(
    app: AppHost, http: httpx.Client, clinic: Clinic, sandbox: SandboxEhr, graph_meetings: GraphMeetings
) -> None:
    key, browser = started(http, clinic, sandbox)
    sent = browser.post(f"/api/visits/{key}/invites", json={"role": "interpreter", "phone": "2175550199"})
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert body["texted"] is True and body["phone_masked"] == "\u2022\u2022\u2022\u20220199" and body["join_url"]
    app.pump()
    outbox = sent_texts(clinic.tenant.id)
    text = next(m for m in outbox if "interpreter" in m["body"])
    assert text["to_masked"].endswith("99") and "2175550199" not in text["to_masked"]
    link = re.search(JOIN_LINK, text["body"])
    assert link is not None and "North Clinic" in text["body"]
    joined = follow_join_link(httpx.Client(), app.server.url + link.group(0))  # the interpreter's phone: no cookies
    assert joined.status_code == 302 and "anon=true" in joined.headers["Location"]  # anonymous: the lobby

    copied = browser.post(f"/api/visits/{key}/invites", json={"role": "guest"})
    assert copied.status_code == 201 and copied.json()["texted"] is False
    assert follow_join_link(httpx.Client(), copied.json()["join_url"]).status_code == 302
    listed = browser.get(f"/api/visits/{key}/invites").json()["items"]
    assert [(i["role"], i["texted"]) for i in listed] == [("interpreter", True), ("guest", False)]
    assert all(i["join_url"] is None for i in listed)  # a link is shown once, to whoever made it

    audit = clinic.tenant.call("GET", "portal/audit").json()["items"]
    invites = [e for e in audit if e["action"] == "invite"]
    assert len(invites) == 2 and "0199" not in str(audit)

    # The number goes once the link has stopped working; the invite stays, without it.
    runtime = get_runtime()
    later = FakeClock(runtime.platform.clock.now() + timedelta(days=3))
    assert PhoneRetention(tables=runtime.platform.tables, clock=later).run(Geography.EU) >= 1
    listed = browser.get(f"/api/visits/{key}/invites").json()["items"]
    assert [i["phone_masked"] for i in listed] == [None, None]


def test_invites_are_checked(
    app: AppHost, http: httpx.Client, clinic: Clinic, sandbox: SandboxEhr, graph_meetings: GraphMeetings
) -> None:
    key, browser = started(http, clinic, sandbox)
    path = f"/api/visits/{key}/invites"
    problem(browser.post(path, json={"role": "interpreter", "phone": "+442079460000"}), 422)  # not the SMS country
    problem(browser.post(path, json={"role": "interpreter", "phone": "12"}), 400)
    problem(browser.post(path, json={"role": "nurse"}), 400)
    problem(browser.post(f"/api/visits/{'0' * 40}/invites", json={"role": "guest"}), 401)  # the cookie is this visit's
    problem(httpx.post(f"{app.server.url}{path}", json={"role": "guest"}), 401)  # no session, no token
    tenant = clinic.tenant
    problem(tenant.as_approver("POST", f"visits/{key}/invites", json={"role": "guest"}), 403)
    assert tenant.call("POST", f"visits/{key}/invites", json={"role": "guest"}).status_code == 201  # an admin
    problem(tenant.call("POST", f"visits/{'a' * 40}/invites", json={"role": "guest"}), 404)  # no meeting yet

    # A number that texted STOP to the clinic is not texted, and nothing of the invite is kept.
    runtime = get_runtime()
    org = runtime.setup.lookups.organisation(tenant.id)
    assert org is not None
    opted = runtime.messaging.sms.number_hash("+12175550188")
    runtime.platform.tables.data(org, OptOutRepository).upsert(
        OptOut(number_hash=opted, sender=clinic.sender, opted_out_at=runtime.platform.clock.now())
    )
    stopped = problem(browser.post(path, json={"role": "guest", "phone": "+12175550188"}), 409)
    assert "STOP" in stopped["detail"]
    assert len(browser.get(path).json()["items"]) == 1
