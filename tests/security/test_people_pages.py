"""What a clinician or patient reads when a launch fails is one plain sentence: never the EHR's URLs, HTTP
statuses or Microsoft Graph's answers. The detail goes to the log and to the admins' API."""

from __future__ import annotations

import re

import httpx
import pytest

from dev.browser import to_ehr
from dev.fakes.identity import LocalIssuer
from dev.fakes.sandbox_ehr import SAMPLE_APPOINTMENTS, SandboxEhr
from tests.conftest import GraphMeetings
from tests.integration.test_visits import page_text
from tests.support.portal import Tenant, approved_endpoint, new_tenant, organisation, problem
from tests.support.visits import launch

FOLLOW_UP = SAMPLE_APPOINTMENTS[0]
TECHNICAL = re.compile(r"https?://|HTTP \d{3}|\b[45]\d\d\b|graph|well-known", re.IGNORECASE)


@pytest.mark.parametrize("kind", ["provider", "patient"])
def test_an_ehr_that_refuses_the_code_gets_a_plain_page_and_the_admin_the_detail(
    http: httpx.Client,
    tenant: Tenant,
    ehr: SandboxEhr,
    graph_meetings: GraphMeetings,
    identity: LocalIssuer,
    kind: str,
) -> None:
    endpoint = approved_endpoint(tenant, ehr)
    start = http.get(ehr.launch_url(FOLLOW_UP, kind))
    callback = to_ehr(start).headers["Location"]
    answer = http.get(re.sub(r"code=[^&]+", "code=not-the-ehrs", callback))  # the EHR answers 400 invalid_grant
    text = page_text(answer)
    assert answer.status_code == 400 and "could not be checked" in text
    assert not TECHNICAL.search(text), text
    detail = tenant.call("GET", f"portal/endpoints/{endpoint}/launch-problem").json()
    assert detail["step"] == "ehr_sign_in" and "HTTP 400, invalid_grant" in detail["detail"]
    assert tenant.as_approver("GET", f"portal/endpoints/{endpoint}/launch-problem").status_code == 200
    other = organisation(new_tenant(http, identity))
    assert problem(other.call("GET", f"portal/endpoints/{endpoint}/launch-problem"), 404)


def test_microsoft_graph_failing_gets_a_plain_page(
    http: httpx.Client, tenant: Tenant, ehr: SandboxEhr, graph_meetings: GraphMeetings
) -> None:
    approved_endpoint(tenant, ehr)
    graph_meetings.stub.failures.extend([(503, {}), (503, {}), (503, {})])
    answer, _ = launch(http, ehr, FOLLOW_UP, "provider")
    assert answer.status_code == 503
    assert not TECHNICAL.search(page_text(answer)), page_text(answer)
