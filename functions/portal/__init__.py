"""The admin portal API, one module per resource: organisation, endpoints (and integration records), approval,
audit, SMS setup, phone numbers, writeback, reports, sign-in, and a visit's participants.

Every route but the EHR's redirect back after an approver's sign-in (which a browser follows, and which is
protected by its single-use state) and the sign-in configuration needs a portal bearer token, and every read
or write is scoped to the caller's tenant. Routes are declared in registry.py's `api`; `/api/openapi.json` is
built from the same declarations.

The Functions host sees three functions: `portal/{*rest}`, `visits/{*rest}` and `openapi.json`. The router
(router.py), with every route's models, loads when the first request comes, not while the host indexes the app,
so that a cold start does not pay for the whole API; it matches the request to its declared route, or answers
problem+json 404, or 405 with Allow.
"""

from __future__ import annotations

import azure.functions as func

from functions._telemetry import traced

bp = func.Blueprint()


@bp.route(route="portal/{*rest}", methods=None, auth_level=func.AuthLevel.ANONYMOUS)
@traced
def portal_api(req: func.HttpRequest) -> func.HttpResponse:
    from functions.portal.router import dispatch

    return dispatch(req, "portal")


@bp.route(route="visits/{*rest}", methods=None, auth_level=func.AuthLevel.ANONYMOUS)
@traced
def visits_api(req: func.HttpRequest) -> func.HttpResponse:
    from functions.portal.router import dispatch

    return dispatch(req, "visits")


@bp.route(route="openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@traced
def openapi(req: func.HttpRequest) -> func.HttpResponse:
    from functions.portal.router import openapi_response

    return openapi_response()
