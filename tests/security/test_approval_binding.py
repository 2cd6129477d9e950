"""The approval's EHR sign-in works only in the browser that holds the approver's portal sign-in which started it:
its `authorize_url`, phished and opened in any other browser, goes nowhere near the EHR and approves nothing."""

from __future__ import annotations

import httpx

from dev.browser import to_ehr
from dev.fakes.sandbox_ehr import SandboxEhr
from tests.integration.test_visits import page_text
from tests.support.portal import Tenant, pending_endpoint


def test_a_phished_sign_in_link_is_useless_in_another_browser(tenant: Tenant, sandbox: SandboxEhr) -> None:
    endpoint = pending_endpoint(tenant, sandbox)
    started = tenant.as_approver("POST", f"portal/endpoints/{endpoint}/sign-in")
    assert started.status_code == 200
    cookie = started.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/api/portal/approval/" in cookie
    link = started.json()["authorize_url"]

    with httpx.Client(base_url=str(tenant.http.base_url), timeout=10) as victim:  # no portal, no cookie
        opened = victim.get(link)
    assert opened.status_code == 422 and "Location" not in opened.headers
    assert "works only in the browser where the approver started it" in page_text(opened)
    assert sandbox.issued == []  # the EHR was never asked for a code
    assert tenant.call("GET", f"portal/endpoints/{endpoint}").json()["status"] == "pending_approval"

    # The approver's own browser, which holds the cookie, goes on; the victim's try did not use the link up.
    authorize = to_ehr(tenant.http.get(link))
    assert authorize.status_code == 302
    assert tenant.http.get(authorize.headers["Location"]).status_code == 302
    assert tenant.call("GET", f"portal/endpoints/{endpoint}").json()["status"] == "validated"


def test_a_sign_in_started_by_one_approver_cannot_be_finished_with_another_browsers_cookie(
    tenant: Tenant, sandbox: SandboxEhr
) -> None:
    """Each start binds a secret of its own: a cookie from an earlier start opens only that start's link."""
    endpoint = pending_endpoint(tenant, sandbox)
    first = tenant.as_approver("POST", f"portal/endpoints/{endpoint}/sign-in")
    second = tenant.as_approver("POST", f"portal/endpoints/{endpoint}/sign-in")
    with httpx.Client(base_url=str(tenant.http.base_url), timeout=10) as other:
        name, value = first.headers["Set-Cookie"].split(";")[0].split("=", 1)
        other.cookies.set(name, value)
        assert other.get(second.json()["authorize_url"]).status_code == 422
        assert to_ehr(other.get(first.json()["authorize_url"])).status_code == 302
