"""Attacks on EHR writeback: an access token goes only to the approved FHIR server, only while the endpoint is
approved, and a web-service URL on another host is refused when it is saved and when it is used."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from dev.fakes.sandbox_ehr import SandboxEhr
from dev.host.serving import ServerThread
from shared.runtime import get_runtime
from shared.writeback.tables import WritebackSettingsRepository
from tests.conftest import CLIENT_ID, AppHost, ehr_host
from tests.support.portal import Tenant, problem
from tests.support.writeback import Visit, clinician, roster


@pytest.fixture
def elsewhere(app_host: ServerThread) -> Iterator[SandboxEhr]:
    """Another server, which would like the connector's tokens."""
    other = SandboxEhr(connector_url=app_host.url)
    other.register_client(CLIENT_ID, f"{app_host.url}/api/portal/approval/callback")
    with ServerThread(other.application(), host=ehr_host()) as server:
        other.url = server.url
        yield other


def test_an_edited_base_url_gets_no_writeback_until_it_is_approved_again(
    start_visit: Callable[[str], Visit], tenant: Tenant, elsewhere: SandboxEhr, app: AppHost
) -> None:
    visit = start_visit("fhir")
    moved = tenant.call("PATCH", f"portal/endpoints/{visit.endpoint}", json={"base_url": elsewhere.fhir_base})
    assert moved.status_code == 200 and moved.json()["status"] == "pending_approval"
    get_runtime().writeback.delivery.forget(tenant.id, visit.endpoint)  # as after the settings cache's 30 s
    visit.notify(roster(1, joined=[clinician(tenant)]))
    app.pump()
    assert elsewhere.token_requests == 0 and elsewhere.writebacks.recorded == []
    assert visit.ehr.writebacks.recorded == []  # nor to the old server: the endpoint is not approved now


def test_a_web_service_on_another_host_is_refused_when_saved(
    start_visit: Callable[[str], Visit], tenant: Tenant, elsewhere: SandboxEhr
) -> None:
    visit = start_visit("epic")
    body = {"adapter": "epic", "epic_path": f"{elsewhere.url}/steal"}
    answer = tenant.call("PUT", f"portal/endpoints/{visit.endpoint}/writeback", json=body)
    assert "approved FHIR server's host" in problem(answer, 422)["detail"]


def test_a_stored_web_service_on_another_host_is_never_called(
    start_visit: Callable[[str], Visit], tenant: Tenant, elsewhere: SandboxEhr, app: AppHost
) -> None:
    """Settings saved before the check existed (or written around it): the call is refused, nothing is sent."""
    visit = start_visit("epic")
    runtime = get_runtime()
    settings = runtime.platform.tables.control(WritebackSettingsRepository)
    stored = settings.get(tenant.id, visit.endpoint)
    settings.upsert(stored.model_copy(update={"epic_path": f"{elsewhere.url}/steal"}))
    runtime.writeback.delivery.forget(tenant.id, visit.endpoint)
    visit.notify(roster(1, joined=[clinician(tenant)]))
    app.pump()
    assert elsewhere.writebacks.recorded == [] and visit.ehr.writebacks.recorded == []
    (failure,) = tenant.call("GET", "portal/writebacks/failed").json()["items"]
    assert failure["status"] == "failed" and "not on the approved FHIR server's host" in failure["last_error"]
