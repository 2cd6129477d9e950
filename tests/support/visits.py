"""Visits for tests: an EHR of the test's own, and the browser's round trip of an EHR launch."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from dev.browser import to_ehr
from dev.fakes.sandbox_ehr import SampleAppointment, SandboxEhr
from dev.host.serving import ServerThread
from shared.runtime import get_runtime
from shared.visits.models import appointment_key
from tests.conftest import serve_ehr
from tests.support.portal import Tenant


@pytest.fixture
def ehr(app_host: ServerThread, request: pytest.FixtureRequest) -> Iterator[SandboxEhr]:
    """An EHR of this test's own (its FHIR base URL belongs to this test's organisation only); parametrise it
    indirectly with a profile name (dev/fakes/ehr_profiles.py) to change how it behaves."""
    with serve_ehr(app_host.url, getattr(request, "param", "epic")) as ehr:
        yield ehr


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


def signed_in_launch(http: httpx.Client, ehr: SandboxEhr, appointment: SampleAppointment) -> httpx.Response:
    """A clinician's launch that goes through their Microsoft 365 sign-in (at the Entra stub) first: the
    connector's last answer (the visit)."""
    callback, _ = launch(http, ehr, appointment, "provider")
    assert callback.status_code == 302, callback.text
    microsoft = http.get(callback.headers["Location"])
    assert microsoft.status_code == 302, microsoft.text
    back = microsoft.headers["Location"]
    assert urlsplit(back).path == "/api/launch/microsoft"
    return http.get(back)


JOIN_LINK = r"/api/join#(\S+)"
"""A join link in a text: its token is the fragment."""


def follow_join_link(http: httpx.Client, link: str) -> httpx.Response:
    """The patient's browser on a join link: the page at `/api/join` posts the fragment's token (the browser sends
    no fragment, so this does what the page's script does); the connector's answer."""
    parts = urlsplit(link)
    assert parts.path == "/api/join" and parts.fragment, link
    page_url = parts._replace(fragment="").geturl()
    page = http.get(page_url)
    assert page.status_code == 200 and "Join your video visit" in page.text, page.text
    return http.post(page_url, data={"token": parts.fragment})


def join_link(tenant: Tenant, endpoint: str, start: datetime, key: str | None = None) -> str:
    """A patient's join link to a 30-minute appointment starting at `start` (a new one unless `key` is given)."""
    return get_runtime().visits.join_links.issue(
        tenant_id=tenant.id,
        endpoint_id=endpoint,
        appointment_key=key or appointment_key(tenant.id, endpoint, uuid.uuid4().hex),
        role="patient",
        start=start,
        end=start + timedelta(minutes=30),
    )
