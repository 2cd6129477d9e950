""" "I lost my link", as an anonymous caller on the internet: the page answers the same whether or not the number
has a visit (same status, same words), never shows a link, texts it only to the number on the appointment, and
limits tries per number and per client address. Through the real app: a signed SIU books the visit, the
`lost-links` and `sms-outbound` queues run, the outbox holds the text."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from tests.conftest import AppHost
from tests.support.clinic import Clinic, deliver
from tests.support.hl7 import siu
from tests.support.texts import sent_texts
from tests.support.visits import JOIN_LINK, follow_join_link, join_link

SENT = "If that number has a video visit today or in the next 24 hours, its link is on its way by text."


def ask(app: AppHost, endpoint: str, phone: str, address: str | None = None) -> httpx.Response:
    headers = {"X-Forwarded-For": address or f"198.51.100.{uuid.uuid4().int % 250}"}
    return httpx.post(f"{app.server.url}/api/lost-link/{endpoint}", data={"phone": phone}, headers=headers)


def texts(clinic: Clinic) -> list[str]:
    return [m["body"] for m in sent_texts(clinic.tenant.id) if "again" in m["body"]]


def test_a_number_with_a_visit_soon_gets_its_link_again_and_the_page_says_the_same_as_for_any_number(
    app: AppHost, clinic: Clinic
) -> None:
    deliver(app, clinic, siu("S12", datetime.now(UTC) + timedelta(hours=3)))  # the sample's number: 217-555-0123
    page = httpx.get(f"{app.server.url}/api/lost-link/{clinic.endpoint}")
    assert page.status_code == 200 and 'name="phone"' in page.text
    assert "form-action 'self'" in page.headers["Content-Security-Policy"]

    matched = ask(app, clinic.endpoint, "(217) 555-0123")
    unmatched = ask(app, clinic.endpoint, "(217) 555-0199")
    assert matched.status_code == unmatched.status_code == 200
    assert matched.text == unmatched.text and SENT in matched.text
    assert "/api/join" not in matched.text
    app.pump()
    (again,) = texts(clinic)  # one text, to the appointment's number, in the patient's words
    assert again.startswith("North Clinic: here is the link to your video visit on ")
    link = re.search(JOIN_LINK, again)
    assert link is not None
    assert follow_join_link(httpx.Client(), app.server.url + link.group(0)).status_code in (302, 410, 400)

    ask(app, clinic.endpoint, "+12175550123")  # asked again within 10 minutes, from elsewhere: no second text
    app.pump()
    assert len(texts(clinic)) == 1


def test_a_visit_further_off_than_a_day_is_not_texted(app: AppHost, clinic: Clinic) -> None:
    deliver(app, clinic, siu("S12", clinic.start))  # in two days
    assert ask(app, clinic.endpoint, "2175550123").status_code == 200
    app.pump()
    assert texts(clinic) == []


def test_tries_are_limited_per_number_and_per_address(app: AppHost, clinic: Clinic) -> None:
    for _ in range(3):
        assert ask(app, clinic.endpoint, "2175550177").status_code == 200
    limited = ask(app, clinic.endpoint, "2175550177")
    assert limited.status_code == 429 and "Too many tries" in limited.text
    address = "203.0.113.7"
    answers = [ask(app, clinic.endpoint, f"21755501{n:02d}", address).status_code for n in range(11)]
    assert answers == [200] * 10 + [429]
    # The address is the front end's, the last X-Forwarded-For hop: one the client puts first changes nothing.
    assert ask(app, clinic.endpoint, "2175550166", f"192.0.2.1, {address}").status_code == 429


def test_bad_input_and_unknown_pages_say_what_to_do(app: AppHost, clinic: Clinic) -> None:
    wrong = ask(app, clinic.endpoint, "not a number")
    assert wrong.status_code == 400 and "This is not a mobile number" in wrong.text
    assert 'aria-invalid="true"' in wrong.text
    for endpoint in ("0" * 16, "nope", "0" * 15 + "g"):
        gone = httpx.get(f"{app.server.url}/api/lost-link/{endpoint}")
        assert gone.status_code == 404 and "not set up" in gone.text
    spanish = httpx.get(f"{app.server.url}/api/lost-link/{clinic.endpoint}", headers={"Accept-Language": "es-US"})
    assert "Reciba de nuevo el enlace" in spanish.text and 'lang="es"' in spanish.text


def test_a_join_link_that_does_not_work_leads_to_its_clinics_lost_link_page(app: AppHost, clinic: Clinic) -> None:
    token = join_link(clinic.tenant, clinic.endpoint, datetime.now(UTC) + timedelta(hours=3)).split("#", 1)[1]
    for sent, status in ((token, 400), (token[:40], 400)):  # not open yet; damaged on the way (its MAC lost)
        page = httpx.post(f"{app.server.url}/api/join", data={"token": sent})
        assert page.status_code == status and f"/api/lost-link/{clinic.endpoint}" in page.text
    forged = httpx.post(f"{app.server.url}/api/join", data={"token": "A" * 40})
    assert forged.status_code == 400 and "/api/lost-link/" not in forged.text  # names no endpoint: no such page
