"""Join links as an attacker with the server's logs would read them: a text's link keeps its token in the URL's
fragment, which browsers never send, so no request line (the Functions host's request telemetry, a proxy's log)
holds the bearer secret; the join page posts it. Links sent before in the path form still work until they close."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx

from tests.conftest import AppHost, GraphMeetings
from tests.support.clinic import Clinic, deliver
from tests.support.hl7 import siu
from tests.support.texts import sent_texts
from tests.support.visits import JOIN_LINK, follow_join_link


def _texted_link(app: AppHost, clinic: Clinic, control: str) -> str:
    soon = (datetime.now(UTC) + timedelta(minutes=10)).replace(second=0, microsecond=0)
    deliver(app, clinic, siu("S12", soon, control=control))
    outbox = sent_texts(clinic.tenant.id)
    [text] = [m for m in outbox if "booked" in m["body"]]
    found = re.search(r"https?://\S+", text["body"])
    assert found is not None, text["body"]
    return found.group(0)


def test_a_texted_link_sends_no_token_in_any_request_line(
    app: AppHost, clinic: Clinic, http: httpx.Client, graph_meetings: GraphMeetings
) -> None:
    link = _texted_link(app, clinic, "FRAG1")
    parts = urlsplit(link)
    token = parts.fragment
    assert re.search(JOIN_LINK, link) and len(token) > 40, link
    sent = parts._replace(fragment="").geturl()  # all a browser puts on the wire of this link
    assert token not in sent and sent.endswith("/api/join"), sent
    joined = follow_join_link(http, link)  # the page, then its post of the token
    assert joined.status_code == 302 and "anon=true" in joined.headers["Location"], joined.text


def test_the_join_page_runs_only_its_own_script_and_refers_nobody(http: httpx.Client) -> None:
    answer = http.get("/api/join")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    policy = answer.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "unsafe-inline" not in policy
    script = answer.text.split("<script>", 1)[1].split("</script>", 1)[0]
    allowed = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{allowed}'" in policy
    assert answer.headers["Referrer-Policy"] == "no-referrer"


def test_a_post_without_a_good_token_gets_a_friendly_page(http: httpx.Client) -> None:
    for body in ({}, {"token": "nonsense"}, {"token": "x" * 5000}):
        answer = http.post("/api/join", data=body)
        assert answer.status_code == 400 and answer.headers["content-type"].startswith("text/html")
        assert "This link is not valid" in answer.text


def test_links_already_sent_in_the_path_form_still_work(
    app: AppHost, clinic: Clinic, http: httpx.Client, graph_meetings: GraphMeetings
) -> None:
    token = urlsplit(_texted_link(app, clinic, "FRAG2")).fragment
    joined = http.get(f"/api/join/{token}")
    assert joined.status_code == 302 and "anon=true" in joined.headers["Location"], joined.text
