"""Visits for tests: an EHR of the test's own, and the browser's round trip of an EHR launch."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import httpx
import pytest

from dev.fakes.sandbox_ehr import SampleAppointment, SandboxEhr
from dev.host.serving import ServerThread
from tests.conftest import serve_ehr


@pytest.fixture
def ehr(app_host: ServerThread, request: pytest.FixtureRequest) -> Iterator[SandboxEhr]:
    """An EHR of this test's own (its FHIR base URL belongs to this test's organisation only); parametrise it
    indirectly with a profile name (dev/fakes/ehr_profiles.py) to change how it behaves."""
    with serve_ehr(app_host.url, getattr(request, "param", "epic")) as ehr:
        yield ehr


def to_ehr(answer: httpx.Response) -> httpx.Response:
    """The browser follows our answer to the EHR's authorize endpoint: a redirect, or a form it posts (the EHR
    takes authorize by POST, or the request is too long for a URL). The EHR's answer."""
    if answer.status_code == 302:
        return httpx.get(answer.headers["Location"], follow_redirects=False, timeout=10)
    assert answer.status_code == 200 and "<form method='post'" in answer.text, answer.text
    action = html.unescape(re.search(r"<form method='post' action='([^']*)'", answer.text)[1])  # type: ignore[index]
    fields = {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(r"<input type='hidden' name='([^']*)' value='([^']*)'>", answer.text)
    }
    return httpx.post(action, data=fields, follow_redirects=False, timeout=10)


def launch(
    http: httpx.Client, ehr: SandboxEhr, appointment: SampleAppointment, kind: str, **url_parameters: str
) -> tuple[httpx.Response, str]:
    """The browser: the EHR opens our launch URL (with any extra URL parameters given), we send it to the EHR's
    authorize, the EHR sends it back to our callback. (the callback's answer, the callback URL)"""
    start = http.get(ehr.launch_url(appointment, kind, **url_parameters))
    authorize = to_ehr(start)
    assert authorize.status_code == 302, authorize.text
    callback_url = authorize.headers["Location"]
    return http.get(callback_url), callback_url
