"""Driving the portal API as an organisation's admin and approver, for tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from dev.browser import to_ehr
from dev.fakes.identity import LocalIssuer
from dev.fakes.sandbox_ehr import SandboxEhr
from dev.host.serving import ServerThread
from tests.conftest import CLIENT_ID

APPROVER = "analyst@northclinic.example"
ADMIN_ROLES = ["Connector.Admin"]
APPROVER_ROLES = ["Connector.Approver"]


@dataclass
class Tenant:
    id: str
    http: httpx.Client
    identity: LocalIssuer

    def token(self, username: str, roles: list[str], **extra: Any) -> str:
        return self.identity.mint(username=username, roles=roles, tenant_id=self.id, **extra)

    def call(
        self,
        method: str,
        path: str,
        *,
        as_user: str = "admin@northclinic.example",
        roles: list[str] | None = None,
        token: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        bearer = token or self.token(as_user, ADMIN_ROLES if roles is None else roles)
        headers = {"Authorization": f"Bearer {bearer}", **kwargs.pop("headers", {})}
        return self.http.request(method, f"/api/{path}", headers=headers, **kwargs)

    def as_approver(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.call(method, path, as_user=APPROVER, roles=APPROVER_ROLES, **kwargs)


def new_tenant(http: httpx.Client, identity: LocalIssuer) -> Tenant:
    return Tenant(str(uuid.uuid4()), http, identity)


def endpoint_body(sandbox: SandboxEhr, **overrides: Any) -> dict[str, Any]:
    return {
        "base_url": sandbox.fhir_base + "/",
        "environment": "test",
        "approver": APPROVER.upper(),
        "time_zone": "America/Chicago",
        "vendor": "epic",
        "client_id": CLIENT_ID,
        "client_type": "confidential-asymmetric" if sandbox.profile.confidential else "public",
        "clinician_sign_in": False,  # on by default; tests of the clinicians' Microsoft 365 sign-in turn it on
        **overrides,
    }


def create_endpoint(tenant: Tenant, sandbox: SandboxEhr, **overrides: Any) -> dict[str, Any]:
    response = tenant.call("POST", "portal/endpoints", json=endpoint_body(sandbox, **overrides))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def pending_endpoint(tenant: Tenant, sandbox: SandboxEhr) -> str:
    endpoint_id = str(create_endpoint(tenant, sandbox)["id"])
    assert tenant.call("POST", f"portal/endpoints/{endpoint_id}/submit").json()["status"] == "pending_approval"
    return endpoint_id


def ehr_sign_in(tenant: Tenant, endpoint_id: str) -> tuple[httpx.Response, str]:
    """The approver's browser: start, follow the EHR's redirect, land on our callback. (callback answer, its URL)"""
    start = tenant.as_approver("POST", f"portal/endpoints/{endpoint_id}/sign-in")
    assert start.status_code == 200, start.text
    begin = tenant.http.get(start.json()["authorize_url"])  # our begin URL: binds the sign-in to this browser
    authorize = to_ehr(begin)
    assert authorize.status_code == 302, authorize.text
    callback_url = authorize.headers["Location"]
    return tenant.http.get(callback_url), callback_url


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def approved_endpoint(tenant: Tenant, sandbox: SandboxEhr) -> str:
    endpoint_id = pending_endpoint(tenant, sandbox)
    callback, _ = ehr_sign_in(tenant, endpoint_id)
    assert callback.status_code == 302, callback.text
    assert tenant.as_approver("POST", f"portal/endpoints/{endpoint_id}/approve").json()["status"] == "approved"
    return endpoint_id


def organisation(tenant: Tenant, geography: str = "EU") -> Tenant:
    body = {"display_name": "North Clinic", "geography": geography}
    created = tenant.call("POST", "portal/organisation", json=body)
    assert created.status_code == 201, created.text
    return tenant


@pytest.fixture
def http(app_host: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=app_host.url, timeout=30) as client:
        yield client


@pytest.fixture
def tenant(http: httpx.Client, identity: LocalIssuer) -> Tenant:
    return organisation(new_tenant(http, identity))


@pytest.fixture
def intruder(http: httpx.Client, identity: LocalIssuer) -> Tenant:
    """Another organisation, on the same connector."""
    return organisation(new_tenant(http, identity))


def acquire_number(tenant: Tenant, pump: Callable[[], object]) -> str:
    """Give both SMS consents, order a number, let the queue run the job; the number."""
    for name in ("sms_terms", "patient_messaging"):
        assert tenant.call("POST", f"portal/sms/consents/{name}").status_code == 200
    accepted = tenant.call("POST", "portal/phone-numbers", json={})
    assert accepted.status_code == 202, accepted.text
    pump()
    job = tenant.call("GET", accepted.headers["Location"].removeprefix("/api/")).json()
    assert job["status"] == "succeeded", job
    return str(job["number"])
