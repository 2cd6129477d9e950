"""SMS phone numbers: the portal API (local provider, through the dev host and its queue pump), and the ACS
provider (the real azure-communication-phonenumbers client against a loopback stub that verifies HMAC and runs
long-running operations), including a job that resumes after a restart."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from azure.core.credentials import AzureKeyCredential

from dev.fakes.sandbox_ehr import SandboxEhr
from dev.host.serving import ServerThread
from shared.auth.principal import Principal, Role
from shared.core.settings import Geography, Settings
from shared.messaging.models import PhoneNumberJobMessage, PhoneNumberOrder
from shared.messaging.providers.acs_numbers import AcsPhoneNumbers
from shared.runtime import Runtime
from shared.setup.models import FhirEndpointCreate, OrganisationCreate
from shared.storage.queue_names import PHONE_NUMBER_JOBS
from tests.conftest import CLIENT_ID, AppHost
from tests.support.acs_stub import AcsStub
from tests.support.portal import (
    APPROVER_ROLES,
    Tenant,
    acquire_number,
    approved_endpoint,
    new_tenant,
    organisation,
    problem,
)

# --- the portal API ---


def test_acquire_link_and_release_a_number(app: AppHost, tenant: Tenant, sandbox: SandboxEhr) -> None:
    endpoint = approved_endpoint(tenant, sandbox)
    problem(tenant.call("POST", "portal/phone-numbers", json={}), 409)  # consents first
    number = acquire_number(tenant, app.pump)
    listed = tenant.call("GET", "portal/phone-numbers").json()
    assert [n["number"] for n in listed["items"]] == [number]
    assert listed["items"][0]["status"] == "active" and listed["items"][0]["linked_endpoint_ids"] == []
    assert [j["status"] for j in listed["jobs"]] == ["succeeded"]

    linked = tenant.call("PUT", f"portal/phone-numbers/{number}/endpoints", json={"endpoint_ids": [endpoint]})
    assert linked.status_code == 200, linked.text
    assert linked.json()["linked_endpoint_ids"] == [endpoint]
    settings = tenant.call("GET", f"portal/endpoints/{endpoint}/sms-settings").json()
    assert settings["sender_number"] == number and settings["clinic_name"]

    problem(tenant.call("DELETE", f"portal/phone-numbers/{number}"), 409)  # still sends for an endpoint
    unlinked = tenant.call("PUT", f"portal/phone-numbers/{number}/endpoints", json={"endpoint_ids": []})
    assert unlinked.json()["linked_endpoint_ids"] == []
    assert tenant.call("GET", f"portal/endpoints/{endpoint}/sms-settings").json()["sender_number"] is None

    released = tenant.call("DELETE", f"portal/phone-numbers/{number}")
    assert released.status_code == 202, released.text
    assert released.json()["kind"] == "release" and released.headers["Location"].endswith(released.json()["id"])
    assert tenant.call("GET", "portal/phone-numbers").json()["items"][0]["status"] == "releasing"
    app.pump()
    assert tenant.call("GET", released.headers["Location"].removeprefix("/api/")).json()["status"] == "succeeded"
    assert tenant.call("GET", "portal/phone-numbers").json()["items"] == []
    entries = tenant.call("GET", "portal/audit").json()["items"]
    assert {"acquired", "released", "link", "unlink"} <= {e["action"] for e in entries}


def test_settings_refuse_a_number_the_organisation_does_not_hold(
    app: AppHost, tenant: Tenant, sandbox: SandboxEhr
) -> None:
    endpoint = approved_endpoint(tenant, sandbox)
    acquire_number(tenant, app.pump)
    body = {"clinic_name": "North", "sender_number": "+18335550999"}
    refused = problem(tenant.call("PUT", f"portal/endpoints/{endpoint}/sms-settings", json=body), 422)
    assert [e["field"] for e in refused["errors"]] == ["sender_number"]
    problem(tenant.call("PUT", "portal/phone-numbers/+18335550999/endpoints", json={"endpoint_ids": [endpoint]}), 404)
    problem(tenant.call("DELETE", "portal/phone-numbers/not-a-number"), 400)


def test_numbers_are_scoped_to_the_organisation_and_to_admins(
    app: AppHost, tenant: Tenant, sandbox: SandboxEhr
) -> None:
    endpoint = approved_endpoint(tenant, sandbox)
    number = acquire_number(tenant, app.pump)
    job_id = tenant.call("GET", "portal/phone-numbers").json()["jobs"][0]["id"]
    problem(tenant.call("POST", "portal/phone-numbers", json={}, roles=APPROVER_ROLES), 403)
    problem(tenant.call("DELETE", f"portal/phone-numbers/{number}", roles=APPROVER_ROLES), 403)
    problem(tenant.call("POST", "portal/phone-numbers", json={"number_type": "vanity"}), 400)

    other = organisation(new_tenant(tenant.http, tenant.identity))
    assert other.call("GET", "portal/phone-numbers").json() == {"items": [], "jobs": []}
    problem(other.call("GET", f"portal/phone-number-jobs/{job_id}"), 404)
    problem(other.call("DELETE", f"portal/phone-numbers/{number}"), 404)
    problem(other.call("PUT", f"portal/phone-numbers/{number}/endpoints", json={"endpoint_ids": [endpoint]}), 409)


def test_the_api_document_describes_the_phone_number_routes(app: AppHost, tenant: Tenant) -> None:
    paths = tenant.http.get("/api/openapi.json").json()["paths"]
    assert {"post", "get"} <= set(paths["/api/portal/phone-numbers"])
    assert "202" in paths["/api/portal/phone-numbers"]["post"]["responses"]
    assert "put" in paths["/api/portal/phone-numbers/{number}/endpoints"]
    assert "get" in paths["/api/portal/phone-number-jobs/{job_id}"]


# --- Azure Communication Services ---


@pytest.fixture
def acs() -> Iterator[AcsStub]:
    stub = AcsStub(key=base64.b64encode(secrets.token_bytes(32)).decode())
    with ServerThread(stub.application()) as server:
        stub.url = server.url
        yield stub


@dataclass
class Org:
    settings: Settings
    admin: Principal
    endpoint_id: str
    acs: AcsStub

    def runtime(self) -> Runtime:
        """A freshly started host: new clients, nothing cached, talking to the ACS stub."""
        runtime = Runtime(self.settings)
        runtime.use(
            phone_numbers=AcsPhoneNumbers.connect(self.acs.url, AzureKeyCredential(self.acs.key), retry_total=0)
        )
        return runtime

    def deliver(self, runtime: Runtime, deliveries: int = 100) -> int:
        """Run this organisation's queued job messages, as the queue trigger would; how many ran."""
        queue = runtime.platform.storage.app.queue(PHONE_NUMBER_JOBS)
        ran = 0
        while ran < deliveries:
            mine = [
                m
                for m in queue.receive_messages(max_messages=32, visibility_timeout=1)
                if PhoneNumberJobMessage.model_validate_json(m.content).tenant_id == self.admin.tenant_id
            ]
            if not mine:
                return ran
            for message in mine[: deliveries - ran]:
                runtime.messaging.number_jobs.advance(PhoneNumberJobMessage.model_validate_json(message.content))
                queue.delete_message(message)
                ran += 1
        return ran


@pytest.fixture
def org(settings: Settings, sandbox: SandboxEhr, acs: AcsStub) -> Org:
    runtime = Runtime(settings)
    admin = Principal(str(uuid.uuid4()), "admin", "admin@x.org", frozenset({Role.ADMIN}))
    runtime.setup.organisations.create(admin, OrganisationCreate(display_name="North", geography=Geography.EU))
    endpoint = runtime.setup.endpoints.create(
        admin,
        FhirEndpointCreate(base_url=sandbox.fhir_base, environment="test", approver="a@x.org", client_id=CLIENT_ID),
    )
    for name in ("sms_terms", "patient_messaging"):
        runtime.messaging.sms_setup.give_consent(admin, name)
    return Org(settings, admin, endpoint.id, acs)


def test_a_purchase_resumes_after_a_restart_without_buying_twice(org: Org) -> None:
    org.acs.polls_per_operation = 3  # each operation reports "running" three times
    first = org.runtime()
    job = first.messaging.phone_numbers.order(org.admin, PhoneNumberOrder(area_code="833"))
    assert org.deliver(first, deliveries=1) == 1
    assert first.messaging.phone_numbers.job(org.admin, job.id).status == "searching"
    del first  # the host stops; the job's message is back on the queue

    second = org.runtime()
    assert org.deliver(second) >= 2
    done = second.messaging.phone_numbers.job(org.admin, job.id)
    assert (done.status, done.number, done.monthly_cost) == ("succeeded", "+18335550142", "2.00 USD")
    assert org.acs.calls.count("search") == 1 and org.acs.calls.count("purchase") == 1
    assert org.acs.purchased == {"+18335550142"}
    assert [n.number for n in second.messaging.phone_numbers.list_numbers(org.admin).items] == ["+18335550142"]
    assert org.acs.refused == []  # every request carried a valid HMAC signature


def test_a_failed_search_fails_the_job_with_the_reason_and_stores_nothing(org: Org) -> None:
    org.acs.fail_next_operation = "OutOfStock"
    runtime = org.runtime()
    job = runtime.messaging.phone_numbers.order(org.admin, PhoneNumberOrder())
    org.deliver(runtime)
    failed = runtime.messaging.phone_numbers.job(org.admin, job.id)
    assert failed.status == "failed" and failed.error and "OutOfStock" in failed.error
    assert runtime.messaging.phone_numbers.list_numbers(org.admin).items == []
    assert org.acs.calls.count("purchase") == 0
    # The organisation can try again.
    again = runtime.messaging.phone_numbers.order(org.admin, PhoneNumberOrder())
    org.deliver(runtime)
    assert runtime.messaging.phone_numbers.job(org.admin, again.id).status == "succeeded"


def test_a_purchase_that_finished_unseen_is_recognised(org: Org) -> None:
    org.acs.polls_per_operation = 5
    runtime = org.runtime()
    job = runtime.messaging.phone_numbers.order(org.admin, PhoneNumberOrder())
    while runtime.messaging.phone_numbers.job(org.admin, job.id).status != "purchasing":
        org.deliver(runtime, deliveries=1)
    # The purchase completes while the host is down, and the service no longer knows the operation.
    org.acs.purchased.add("+18335550142")
    org.acs._operations.clear()
    org.deliver(runtime)
    assert runtime.messaging.phone_numbers.job(org.admin, job.id).status == "succeeded"
    assert [n.number for n in runtime.messaging.phone_numbers.list_numbers(org.admin).items] == ["+18335550142"]


def test_only_one_purchase_at_a_time_and_release_through_acs(org: Org) -> None:
    runtime = org.runtime()
    runtime.messaging.phone_numbers.order(org.admin, PhoneNumberOrder())
    with pytest.raises(Exception, match="already being acquired"):
        runtime.messaging.phone_numbers.order(org.admin, PhoneNumberOrder())
    org.deliver(runtime)
    release = runtime.messaging.phone_numbers.release(org.admin, "+18335550142")
    org.deliver(runtime)
    assert runtime.messaging.phone_numbers.job(org.admin, release.id).status == "succeeded"
    assert org.acs.purchased == set() and runtime.messaging.phone_numbers.list_numbers(org.admin).items == []
