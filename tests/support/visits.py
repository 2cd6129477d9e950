"""Visits for tests: an EHR of the test's own, and the browser's round trip of an EHR launch."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from dev.fakes.sandbox_ehr import SampleAppointment, SandboxEhr
from dev.host.serving import ServerThread
from tests.conftest import CLIENT_ID, ehr_host


@pytest.fixture
def ehr(app_host: ServerThread) -> Iterator[SandboxEhr]:
    """An EHR of this test's own (its FHIR base URL belongs to this test's organisation only)."""
    connector = app_host.url
    ehr = SandboxEhr(connector_url=connector)
    ehr.register_client(CLIENT_ID, f"{connector}/api/portal/approval/callback")
    ehr.register_client(CLIENT_ID, f"{connector}/api/launch/callback")
    with ServerThread(ehr.application(), host=ehr_host()) as server:
        ehr.url = server.url
        yield ehr


def launch(
    http: httpx.Client, ehr: SandboxEhr, appointment: SampleAppointment, kind: str, **url_parameters: str
) -> tuple[httpx.Response, str]:
    """The browser: the EHR opens our launch URL (with any extra URL parameters given), we send it to the EHR's
    authorize, the EHR sends it back to our callback. (the callback's answer, the callback URL)"""
    start = http.get(ehr.launch_url(appointment, kind, **url_parameters))
    assert start.status_code == 302, start.text
    authorize = httpx.get(start.headers["Location"], follow_redirects=False, timeout=10)
    assert authorize.status_code == 302, authorize.text
    callback_url = authorize.headers["Location"]
    return http.get(callback_url), callback_url
