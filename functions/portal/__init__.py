"""The admin portal API, one module per resource: organisation, endpoints (and integration records), approval,
audit, SMS setup, phone numbers, writeback, reports, sign-in, and a visit's participants.

Every route but the EHR's redirect back after an approver's sign-in (which a browser follows, and which is
protected by its single-use state) and the sign-in configuration needs a portal bearer token, and every read
or write is scoped to the caller's tenant. Routes are declared in registry.py's `api`; `/api/openapi.json` is
built from the same declarations.
"""

from __future__ import annotations

import re
from functools import cache

import azure.functions as func

from functions._http import json_response, problem
from functions.portal import (  # noqa: F401 - each module declares its routes on `api`
    approval,
    audit,
    endpoints,
    organisation,
    phone_numbers,
    reports,
    sign_in,
    sms,
    visits,
    writeback,
)
from functions.portal.openapi import ApiRoute, build_document
from functions.portal.registry import api
from shared import __version__
from shared.runtime import get_runtime

bp = api.blueprint


def all_routes() -> list[ApiRoute]:
    """Every route of the portal API."""
    return list(api.routes)


@cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    """Each route's path as a pattern, with its method."""
    return [(route.path_pattern, route.method) for route in api.routes]


def _unrouted(req: func.HttpRequest, prefix: str) -> func.HttpResponse:
    """What the router answers when no route takes the request: 405 with Allow when the path is an API resource
    but not for this method, else 404; both problem+json, like every other API error."""
    path = f"{prefix}/{req.route_params.get('rest', '')}".rstrip("/")
    allowed = sorted({method for pattern, method in _templates() if pattern.match(path)})
    if allowed:
        response = problem(405, f"{req.method} is not allowed here; use {', '.join(allowed)}.")
        response.headers["Allow"] = ", ".join(allowed)
        return response
    return problem(404, "There is no such API resource; see /api/openapi.json for the API's paths.")


# These catch-alls overlap every route of the API. The Functions host tries routes in the alphabetical order of their
# function names, whatever their templates (azure-functions-host issues 3153 and 9876), and a route whose methods do
# not match passes the request on: named zz_, they come last, and so take only what no route takes.
@bp.route(route="portal/{*rest}", methods=None, auth_level=func.AuthLevel.ANONYMOUS)
def zz_portal_unrouted(req: func.HttpRequest) -> func.HttpResponse:
    return _unrouted(req, "portal")


@bp.route(route="visits/{*rest}", methods=None, auth_level=func.AuthLevel.ANONYMOUS)
def zz_visits_unrouted(req: func.HttpRequest) -> func.HttpResponse:
    return _unrouted(req, "visits")


@bp.route(route="openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def openapi(req: func.HttpRequest) -> func.HttpResponse:
    document = build_document(
        all_routes(),
        title="EHR virtual visits connector: portal API",
        version=__version__,
        server=get_runtime().settings.public_base,
    )
    return json_response(document)
