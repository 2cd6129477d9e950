"""Attacks on the launch: the visit is chosen only by what the EHR vouches for (the token response's context),
never by parameters anyone can edit in the launch URL."""

from __future__ import annotations

import httpx
import pytest

from dev.fakes.sandbox_ehr import SAMPLE_APPOINTMENTS, SandboxEhr, encode_launch
from shared.runtime import get_runtime
from shared.setup.tables import OrganisationRepository
from shared.visits.models import MeetingLink, appointment_key
from shared.visits.sessions import COOKIE
from shared.visits.tables import MeetingLinkRepository
from tests.conftest import GraphMeetings
from tests.integration.test_visits import page_text
from tests.support.portal import Tenant, approved_endpoint
from tests.support.visits import launch

FOLLOW_UP, NEW_PATIENT, GROUP_ONE, GROUP_TWO = SAMPLE_APPOINTMENTS


@pytest.fixture
def endpoint(tenant: Tenant, ehr: SandboxEhr, graph_meetings: GraphMeetings) -> str:
    return approved_endpoint(tenant, ehr)


def meeting_of(tenant: Tenant, endpoint: str, reference: str) -> MeetingLink | None:
    runtime = get_runtime()
    organisation = runtime.platform.tables.control(OrganisationRepository).get(tenant.id, "organisation")
    key = appointment_key(tenant.id, endpoint, reference)
    return runtime.platform.tables.data(organisation, MeetingLinkRepository).find(endpoint, key)


def test_a_patient_who_edits_session_id_to_another_visit_is_refused(
    http: httpx.Client, ehr: SandboxEhr, endpoint: str
) -> None:
    victim = launch(http, ehr, NEW_PATIENT, "provider")[0].headers["Location"]
    answer, _ = launch(http, ehr, FOLLOW_UP, "patient", sessionId=NEW_PATIENT.csn)
    assert answer.status_code == 400
    assert "do not match the visit the EHR opened" in page_text(answer)
    assert victim not in answer.text and "Location" not in answer.headers


def test_a_clinician_who_edits_session_id_gets_no_meeting_and_no_visit_session(
    http: httpx.Client, tenant: Tenant, ehr: SandboxEhr, endpoint: str
) -> None:
    answer, _ = launch(http, ehr, FOLLOW_UP, "provider", sessionId=NEW_PATIENT.csn)
    assert answer.status_code == 400
    assert COOKIE not in answer.headers.get("set-cookie", "")
    assert meeting_of(tenant, endpoint, f"csn:{NEW_PATIENT.csn}") is None


def test_a_conference_id_added_to_a_one_to_one_visit_does_not_join_the_group(
    http: httpx.Client, tenant: Tenant, ehr: SandboxEhr, endpoint: str
) -> None:
    """The EHR named no conference for this visit: the forged one is ignored, the clinician gets their own."""
    answer, _ = launch(http, ehr, FOLLOW_UP, "provider", conferenceId=GROUP_ONE.conference_id)
    own = meeting_of(tenant, endpoint, f"csn:{FOLLOW_UP.csn}")
    assert answer.status_code == 302 and own is not None and answer.headers["Location"] == own.join_url
    assert meeting_of(tenant, endpoint, f"conference:{GROUP_ONE.conference_id}") is None


def test_url_parameters_the_ehr_did_not_vouch_for_are_ignored(
    http: httpx.Client, tenant: Tenant, ehr: SandboxEhr, endpoint: str
) -> None:
    """A launch whose token response has only SMART's context: the edited sessionId and departmentId choose
    nothing; the visit is the appointment the EHR named, with no department."""
    victim = launch(http, ehr, NEW_PATIENT, "provider")[0].headers["Location"]
    context = ehr.launch_context(FOLLOW_UP, f"Patient/{FOLLOW_UP.patient}")
    context = {name: value for name, value in context.items() if name not in ("csn", "departmentId")}
    params = {"iss": ehr.fhir_base, "launch": encode_launch(context), "sessionId": NEW_PATIENT.csn}
    start = http.get("/api/launch/patient", params={**params, "departmentId": "FORGED"})
    authorize = httpx.get(start.headers["Location"], follow_redirects=False, timeout=10)
    answer = http.get(authorize.headers["Location"])
    assert answer.status_code == 302 and not answer.headers["Location"].startswith(victim)
    own = meeting_of(tenant, endpoint, f"appointment:{FOLLOW_UP.id}")
    assert own is not None and answer.headers["Location"].startswith(own.browser_join_url)
    assert own.references.department_id is None and own.references.csn is None


def test_department_and_csn_come_from_the_token_and_a_forged_department_is_refused(
    http: httpx.Client, tenant: Tenant, ehr: SandboxEhr, endpoint: str
) -> None:
    assert launch(http, ehr, FOLLOW_UP, "provider")[0].status_code == 302
    stored = meeting_of(tenant, endpoint, f"csn:{FOLLOW_UP.csn}")
    assert stored is not None and stored.references.department_id == FOLLOW_UP.department_id
    forged, _ = launch(http, ehr, FOLLOW_UP, "provider", departmentId="FORGED")
    assert forged.status_code == 400
    # A URL parameter that agrees with the EHR's context is accepted (records configured before this change).
    agreeing, _ = launch(http, ehr, FOLLOW_UP, "provider", sessionId=FOLLOW_UP.csn)
    assert agreeing.status_code == 302


def test_a_group_visit_meets_through_the_conference_id_the_ehr_returned(
    http: httpx.Client, tenant: Tenant, ehr: SandboxEhr, endpoint: str
) -> None:
    group = launch(http, ehr, GROUP_ONE, "provider")[0].headers["Location"]
    assert launch(http, ehr, GROUP_TWO, "patient")[0].headers["Location"].startswith(group)
    stored = meeting_of(tenant, endpoint, f"conference:{GROUP_ONE.conference_id}")
    assert stored is not None and stored.join_url == group


def test_a_callback_carried_to_another_browser_is_refused(http: httpx.Client, ehr: SandboxEhr, endpoint: str) -> None:
    """The launch's state is bound to the browser that started it (its short-lived, HttpOnly, Lax cookie)."""
    start = http.get(ehr.launch_url(FOLLOW_UP, "provider"))
    cookie = start.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=600" in cookie
    authorize = httpx.get(start.headers["Location"], follow_redirects=False, timeout=10)
    elsewhere = httpx.Client(base_url=str(http.base_url), timeout=10)  # no cookie: another browser
    stolen = elsewhere.get(authorize.headers["Location"])
    assert stolen.status_code == 400 and "started in another browser" in page_text(stolen)
    assert "Location" not in stolen.headers


def test_an_approval_callback_carried_to_another_browser_is_refused(tenant: Tenant, sandbox: SandboxEhr) -> None:
    from tests.support.portal import pending_endpoint

    endpoint = pending_endpoint(tenant, sandbox)
    start = tenant.as_approver("POST", f"portal/endpoints/{endpoint}/sign-in").json()
    begin = tenant.http.get(start["authorize_url"])
    authorize = httpx.get(begin.headers["Location"], follow_redirects=False, timeout=10)
    elsewhere = httpx.get(authorize.headers["Location"], timeout=10)  # the callback URL, without the cookie
    assert elsewhere.status_code == 422 and "started in another browser" in page_text(elsewhere)
    assert tenant.call("GET", f"portal/endpoints/{endpoint}").json()["status"] == "pending_approval"


@pytest.mark.parametrize("path", ["/api/launch/callback", "/api/portal/approval/callback"])
def test_an_over_long_or_odd_state_is_a_friendly_400(http: httpx.Client, path: str) -> None:
    for state in ("x" * 3000, "a/b?c", "é" * 40):  # over 4 KB the host itself answers 414 (test_dev_host.py)
        answer = http.get(path, params={"state": state, "code": "c"})
        assert answer.status_code == 400 and "Traceback" not in answer.text
        assert answer.headers["Content-Type"].startswith("text/html")
