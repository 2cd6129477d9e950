"""A clinician's visit with EHR writeback on, for the writeback tests (API and browser): the launch (the sandbox
EHR), Graph's notifications (the Graph stub) at our webhook, and the backoff's sleeps recorded, not slept."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiohttp import web

from dev.fakes.sandbox_ehr import SAMPLE_APPOINTMENTS, SandboxEhr
from dev.host.serving import ServerThread
from shared.runtime import get_runtime
from shared.visits.models import appointment_key
from shared.writeback.ehr.client import EhrClient
from tests.conftest import AppHost, GraphMeetings
from tests.support.portal import Tenant, approved_endpoint
from tests.support.visits import launch

FOLLOW_UP = SAMPLE_APPOINTMENTS[0]
BACKEND_CLIENT = "connector-backend"


@pytest.fixture
def sleeps(app: AppHost) -> Iterator[list[float]]:
    """The backoff's sleeps, recorded: the EHR client is built with them at the composition root."""
    runtime = get_runtime()
    recorded: list[float] = []
    backend = runtime.writeback.backend_services
    runtime.use(ehr_client=EhrClient(runtime.platform.outbound, backend, sleep=recorded.append))
    yield recorded
    runtime.use(ehr_client=EhrClient(runtime.platform.outbound, backend))  # sleeps for real again


@dataclass
class Visit:
    tenant: Tenant
    ehr: SandboxEhr
    endpoint: str
    key: str
    subscription: str
    cookie: str
    graph: GraphMeetings
    server: ServerThread

    def notify(self, data: dict[str, Any], notification_id: str | None = None) -> None:
        status = self.server.run(self.graph.stub.notify(self.subscription, data, notification_id=notification_id))
        assert status == 202


def at(minutes: float) -> str:
    moment = datetime(2026, 11, 20, 15, 0, tzinfo=UTC) + timedelta(minutes=minutes)
    return moment.isoformat().replace("+00:00", "Z")


def roster(minutes: float, joined: list[dict[str, Any]] = (), exited: list[dict[str, Any]] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    return {
        "eventType": "Microsoft.Communication.CallRosterUpdate",
        "eventDateTime": at(minutes),
        "activeParticipants@joined": list(joined),
        "activeParticipants@exited": list(exited),
    }


def call(kind: str, minutes: float) -> dict[str, Any]:
    return {"eventType": f"Microsoft.Communication.{kind}", "eventDateTime": at(minutes)}


def clinician(tenant: Tenant) -> dict[str, Any]:
    return {"Id": "p-c", "Identity": {"User": {"Id": "aad-c", "DisplayName": "Dr Lee", "TenantId": tenant.id}}}


PATIENT = {"Id": "p-p", "Identity": {"Guest": {"Id": "guest-p", "DisplayName": "Pat Doe"}}}


@pytest.fixture
def start_visit(
    tenant: Tenant,
    ehr: SandboxEhr,
    app: AppHost,
    graph_meetings: GraphMeetings,
    http: httpx.Client,
    server: ServerThread,
) -> Callable[[str], Visit]:
    """Writeback on with `adapter`, then the clinician launches the follow-up visit (and its meeting subscribes)."""

    def start(adapter: str) -> Visit:
        return _start_visit(adapter, tenant, ehr, app, graph_meetings, http, server)

    return start


def _start_visit(
    adapter: str,
    tenant: Tenant,
    ehr: SandboxEhr,
    app: AppHost,
    graph: GraphMeetings,
    http: httpx.Client,
    server: ServerThread,
) -> Visit:
    endpoint = approved_endpoint(tenant, ehr)
    ehr.register_backend_client(BACKEND_CLIENT, f"{app.server.url}/api/.well-known/jwks/{tenant.id}")
    settings = tenant.call(
        "PUT", f"portal/endpoints/{endpoint}/writeback", json={"adapter": adapter, "client_id": BACKEND_CLIENT}
    )
    assert settings.status_code == 200, settings.text
    assert settings.json()["jwks_url"] == f"{app.server.url}/api/.well-known/jwks/{tenant.id}"
    before = set(graph.stub.subscriptions)
    # An EHR that says neither who the user is nor which launch record it is starts no clinician's visit: there
    # the patient's launch makes the meeting.
    clinician = ehr.profile.vouches_for_clinicians
    answer, _ = launch(http, ehr, FOLLOW_UP, "provider" if clinician else "patient")
    assert answer.status_code == 302, answer.text
    (subscription,) = graph.stub.meeting_subscriptions() - before
    cookies = answer.headers.get_list("set-cookie")
    cookie = next((c for c in cookies if c.startswith("visit_session=")), "" if not clinician else None)
    assert cookie is not None
    assert any("Max-Age=0" in c for c in answer.headers.get_list("set-cookie"))  # the used state's cookie goes
    # Epic's token-response parameters name the visit by its CSN; other EHRs by SMART's fhirContext.
    reference = f"csn:{FOLLOW_UP.csn}" if ehr.profile.epic_context else f"appointment:{FOLLOW_UP.id}"
    key = appointment_key(tenant.id, endpoint, reference)
    assert not clinician or (f"Path=/api/visits/{key}/" in cookie and "HttpOnly" in cookie)
    return Visit(tenant, ehr, endpoint, key, subscription, cookie.split(";")[0], graph, server)


@pytest.fixture
def server() -> Iterator[ServerThread]:
    with ServerThread(web.Application()) as running:  # a loop to run the Graph stub's client on
        yield running


def poison_a_writeback(visit: Visit, app: AppHost) -> None:
    """The EHR answers 503 to everything while the clinician's connect is delivered, until the message reaches
    the poison queue (host.json's maxDequeueCount, retried at once)."""
    visit.ehr.writebacks.fail_next = [503] * 1000
    visit.notify(roster(1, joined=[clinician(visit.tenant)]))
    app.pump_retrying_at_once()
