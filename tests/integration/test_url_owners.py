"""A FHIR base URL belongs to the first organisation that approved it: a second organisation cannot switch off
the first one's launches by approving the same URL; it gets a clear 409, and the first keeps working."""

from __future__ import annotations

import httpx

from dev.fakes.sandbox_ehr import SAMPLE_APPOINTMENTS, SandboxEhr
from tests.conftest import GraphMeetings
from tests.support.portal import (
    Tenant,
    approved_endpoint,
    ehr_sign_in,
    endpoint_body,
    pending_endpoint,
    problem,
)
from tests.support.visits import launch

FOLLOW_UP = SAMPLE_APPOINTMENTS[0]


def launches_into(tenant: Tenant, http: httpx.Client, sandbox: SandboxEhr) -> str:
    answer, _ = launch(http, sandbox, FOLLOW_UP, "provider")
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def test_a_second_organisation_cannot_sign_in_to_an_approved_url(
    tenant: Tenant, intruder: Tenant, sandbox: SandboxEhr, http: httpx.Client, graph_meetings: GraphMeetings
) -> None:
    approved_endpoint(tenant, sandbox)
    before = launches_into(tenant, http, sandbox)
    refused = intruder.call("POST", "portal/endpoints", json=endpoint_body(sandbox))  # refused when it is added
    assert "belongs to another organisation" in problem(refused, 409)["detail"]
    assert launches_into(tenant, http, sandbox) == before


def test_a_second_approval_of_the_same_url_is_refused_and_the_first_keeps_working(
    tenant: Tenant, intruder: Tenant, sandbox: SandboxEhr, http: httpx.Client, graph_meetings: GraphMeetings
) -> None:
    """Both signed in while neither was approved; the first approval wins the URL."""
    theirs = pending_endpoint(intruder, sandbox)
    assert ehr_sign_in(intruder, theirs)[0].status_code == 302
    approved_endpoint(tenant, sandbox)
    refused = intruder.as_approver("POST", f"portal/endpoints/{theirs}/approve")
    assert "belongs to another organisation" in problem(refused, 409)["detail"]
    assert intruder.call("GET", f"portal/endpoints/{theirs}").json()["status"] == "validated"
    assert launches_into(tenant, http, sandbox)


def test_the_url_is_free_again_once_its_owner_lets_it_go(tenant: Tenant, intruder: Tenant, sandbox: SandboxEhr) -> None:
    mine = approved_endpoint(tenant, sandbox)
    assert tenant.call("DELETE", f"portal/endpoints/{mine}").status_code == 204
    approved_endpoint(intruder, sandbox)
