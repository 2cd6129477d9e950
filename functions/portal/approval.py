"""Approval: a draft endpoint is submitted, the named approver signs in to the EHR (SMART standalone launch, so
the EHR vouches for them), then approves or rejects it.

The EHR's redirect back is followed by a browser, so it is the one anonymous route here: its single-use state
protects it, and it answers with a redirect to the portal or a page that says what to do."""

from __future__ import annotations

import logging
from urllib.parse import quote

import azure.functions as func

from functions._http import authorize_response, browser_secret, forget_state_cookie, html_page, redirect, state_cookie
from functions.portal.parameters import BeginQuery, CallbackQuery, EndpointPath
from functions.portal.registry import Call, Reply, api
from shared.core.errors import DomainError
from shared.setup.models import FhirEndpoint, FhirEndpointPublic, RejectRequest, SignInStart

log = logging.getLogger(__name__)
COOKIE_PATH = "/api/portal/approval/"  # the begin and callback routes: where the sign-in's browser cookie goes


@api.route(
    "POST",
    "portal/endpoints/{endpoint_id}/submit",
    summary="Submit a draft endpoint for approval",
    tag="approval",
    response=FhirEndpointPublic,
    errors=(409,),
    parameters=EndpointPath,
)
def submit_endpoint(call: Call[None]) -> FhirEndpoint:
    return call.runtime.setup.endpoints.submit(call.principal, call.param("endpoint_id"))


@api.route(
    "POST",
    "portal/endpoints/{endpoint_id}/sign-in",
    summary="Start the approver's EHR sign-in (SMART standalone launch)",
    description="Only the named approver. The answer's short-lived HttpOnly cookie binds the sign-in to this "
    "browser: open `authorize_url` in it (the link works in no other browser); the EHR redirects back to "
    "/api/portal/approval/callback, which validates the sign-in and returns to the portal.",
    tag="approval",
    response=SignInStart,
    errors=(409, 502),
    parameters=EndpointPath,
)
def start_sign_in(call: Call[None]) -> Reply:
    begun = call.runtime.setup.approval.start_sign_in(call.principal, call.param("endpoint_id"))
    secure = call.runtime.settings.environment != "local"
    return Reply(begun.start, {"Set-Cookie": state_cookie(begun.state, begun.browser, COOKIE_PATH, secure=secure)})


@api.route(
    "GET",
    "portal/approval/begin",
    summary="Where the approver's browser starts the EHR sign-in (the `authorize_url` of the sign-in)",
    description="Followed by the browser, not called by the portal. Only the browser holding the cookie of the "
    "sign-in's start goes on to the EHR; the callback accepts the sign-in only from that browser too.",
    tag="approval",
    auth="none",
    status=302,
    response_kind="redirect",
    parameters=BeginQuery,
    errors_as="html",
    advice="Start the EHR sign-in again from the portal.",
)
def approval_begin(call: Call[None]) -> func.HttpResponse:
    state = call.query("state")
    try:
        authorize = call.runtime.setup.approval.begin(state, browser_secret(call.req, state))
    except DomainError as failure:
        return html_page("The EHR sign-in could not start", failure.detail, status=422, back=_back_to_portal(call))
    return authorize_response(authorize, None)


def _back_to_portal(call: Call[None]) -> tuple[str, str]:
    return f"{call.runtime.settings.portal_base}/#/endpoints", "Back to the FHIR endpoints in the portal"


@api.route(
    "GET",
    "portal/approval/callback",
    summary="Where the EHR returns the approver after sign-in",
    description="Followed by the browser, not called by the portal. Redirects to the portal on success; "
    "otherwise shows a page that says what went wrong and what to do.",
    tag="approval",
    auth="none",
    status=302,
    response_kind="redirect",
    parameters=CallbackQuery,
    errors_as="html",
    advice="Start the EHR sign-in again from the portal.",
)
def approval_callback(call: Call[None]) -> func.HttpResponse:
    try:
        state = call.query("state")
        result = call.runtime.setup.approval.complete_sign_in(
            state=state,
            code=call.query("code"),
            error=call.query("error"),
            error_description=call.query("error_description"),
            browser=browser_secret(call.req, state),
        )
    except DomainError as failure:
        page = html_page("The EHR sign-in did not complete", failure.detail, status=422, back=_back_to_portal(call))
        return forget_state_cookie(page, state, COOKIE_PATH)
    except Exception:
        log.exception("approval_callback failed unexpectedly")
        page = html_page(
            "The EHR sign-in did not complete",
            "Something went wrong on our side; start the EHR sign-in again from the portal.",
            status=500,
            back=_back_to_portal(call),
        )
        return forget_state_cookie(page, state, COOKIE_PATH)
    back = redirect(f"{call.runtime.settings.portal_base}/#/endpoints/{quote(result.endpoint_id)}?signin=ok")
    return forget_state_cookie(back, state, COOKIE_PATH)


@api.route(
    "POST",
    "portal/endpoints/{endpoint_id}/approve",
    summary="Approve an endpoint (named approver, after the EHR sign-in)",
    tag="approval",
    response=FhirEndpointPublic,
    errors=(409,),
    parameters=EndpointPath,
)
def approve_endpoint(call: Call[None]) -> FhirEndpoint:
    return call.runtime.setup.approval.approve(call.principal, call.param("endpoint_id"))


@api.route(
    "POST",
    "portal/endpoints/{endpoint_id}/reject",
    summary="Reject an endpoint with a comment (named approver)",
    tag="approval",
    request=RejectRequest,
    response=FhirEndpointPublic,
    errors=(409,),
    parameters=EndpointPath,
)
def reject_endpoint(call: Call[RejectRequest]) -> FhirEndpoint:
    return call.runtime.setup.approval.reject(call.principal, call.param("endpoint_id"), call.body.comment)
