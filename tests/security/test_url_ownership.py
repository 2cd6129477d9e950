"""A FHIR base URL stays the organisation's that approved it first: an edit that sends its endpoint back for
approval does not free it, so another organisation can neither add it, sign in to it nor approve it while the
owner is re-approving; only deleting the endpoint, or an admin of the owner releasing the URL (audited), frees it."""

from __future__ import annotations

import httpx

from dev.fakes.sandbox_ehr import SAMPLE_APPOINTMENTS, SandboxEhr
from dev.host.serving import ServerThread
from tests.conftest import GraphMeetings, serve_ehr
from tests.integration.test_visits import page_text
from tests.support.portal import (
    Tenant,
    approved_endpoint,
    create_endpoint,
    ehr_sign_in,
    endpoint_body,
    pending_endpoint,
    problem,
)
from tests.support.visits import launch

FOLLOW_UP = SAMPLE_APPOINTMENTS[0]


def back_to_pending(tenant: Tenant, endpoint: str) -> None:
    """A non-cosmetic edit: the approval was for the old configuration."""
    edited = tenant.call("PATCH", f"portal/endpoints/{endpoint}", json={"environment": "prod"})
    assert edited.status_code == 200 and edited.json()["status"] == "pending_approval", edited.text


def test_a_pending_re_approval_keeps_the_url_from_another_organisation(
    tenant: Tenant, intruder: Tenant, sandbox: SandboxEhr, http: httpx.Client, graph_meetings: GraphMeetings
) -> None:
    # The intruder configured and signed in to the URL before the owner approved it.
    theirs = pending_endpoint(intruder, sandbox)
    assert ehr_sign_in(intruder, theirs)[0].status_code == 302
    mine = approved_endpoint(tenant, sandbox)
    owners_meeting = launch(http, sandbox, FOLLOW_UP, "provider")[0].headers["Location"]
    back_to_pending(tenant, mine)

    refused = intruder.as_approver("POST", f"portal/endpoints/{theirs}/approve")
    assert "belongs to another organisation" in problem(refused, 409)["detail"]
    assert (
        "belongs to another organisation"
        in problem(intruder.as_approver("POST", f"portal/endpoints/{theirs}/sign-in"), 409)["detail"]
    )
    added = intruder.call("POST", "portal/endpoints", json=endpoint_body(sandbox, environment="prod"))
    assert "belongs to another organisation" in problem(added, 409)["detail"]

    # Meanwhile the URL's launches go nowhere (not to the intruder): the owner is re-approving.
    waiting = http.get(sandbox.launch_url(FOLLOW_UP, "provider"))
    assert waiting.status_code == 403 and "not connected" in page_text(waiting)

    assert ehr_sign_in(tenant, mine)[0].status_code == 302
    assert tenant.as_approver("POST", f"portal/endpoints/{mine}/approve").json()["status"] == "approved"
    assert launch(http, sandbox, FOLLOW_UP, "provider")[0].headers["Location"] == owners_meeting


def test_only_an_admin_of_the_owner_releases_the_url_and_it_is_audited(
    tenant: Tenant, intruder: Tenant, sandbox: SandboxEhr, http: httpx.Client, graph_meetings: GraphMeetings
) -> None:
    theirs = pending_endpoint(intruder, sandbox)
    assert ehr_sign_in(intruder, theirs)[0].status_code == 302
    mine = approved_endpoint(tenant, sandbox)

    approved = tenant.call("POST", f"portal/endpoints/{mine}/release-url")
    assert "keeps the URL" in problem(approved, 409)["detail"]
    back_to_pending(tenant, mine)
    assert problem(intruder.call("POST", f"portal/endpoints/{mine}/release-url"), 404)
    assert problem(tenant.as_approver("POST", f"portal/endpoints/{mine}/release-url"), 403)
    assert problem(intruder.as_approver("POST", f"portal/endpoints/{theirs}/approve"), 409)

    released = tenant.call("POST", f"portal/endpoints/{mine}/release-url")
    assert released.status_code == 200, released.text
    audit = tenant.call("GET", "portal/audit").json()["items"]
    assert any(entry["action"] == "release_url" and entry["entity_id"] == mine for entry in audit)
    assert intruder.as_approver("POST", f"portal/endpoints/{theirs}/approve").json()["status"] == "approved"
    # Now it is the intruder's, for good: the former owner's re-approval is the one refused.
    assert problem(tenant.as_approver("POST", f"portal/endpoints/{mine}/sign-in"), 409)


def test_a_url_another_organisation_holds_is_refused_when_it_is_added(
    tenant: Tenant, intruder: Tenant, sandbox: SandboxEhr, app_host: ServerThread
) -> None:
    approved_endpoint(tenant, sandbox)
    added = intruder.call("POST", "portal/endpoints", json=endpoint_body(sandbox))
    assert "belongs to another organisation" in problem(added, 409)["detail"]
    # Moving an endpoint of its own onto the URL is refused the same way.
    with serve_ehr(app_host.url) as own_ehr:
        other = create_endpoint(intruder, own_ehr)["id"]
        moved = intruder.call("PATCH", f"portal/endpoints/{other}", json={"base_url": sandbox.fhir_base})
    assert "belongs to another organisation" in problem(moved, 409)["detail"]
