"""The portal API's router: the declared route a request is for, its path parameters, and problem+json 404 and
405 (with Allow) for what no route takes. Literal segments take precedence over parameters, as in the Functions
host's own routing; every resource module declares its routes on `api` when this module is imported."""

from __future__ import annotations

from functools import cache

import azure.functions as func

from functions._http import json_response, problem
from functions.portal import (  # noqa: F401 - each module declares its routes on `api`
    approval,
    audit,
    clinicians,
    endpoints,
    organisation,
    phone_numbers,
    records,
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


def all_routes() -> list[ApiRoute]:
    """Every route of the portal API."""
    return list(api.routes)


@cache
def _by_precedence() -> list[ApiRoute]:
    """The routes, those with a literal segment where another has a parameter first."""
    return sorted(api.routes, key=lambda route: route.precedence)


def dispatch(req: func.HttpRequest, prefix: str) -> func.HttpResponse:
    """Answer a request under `prefix` (the host's catch-all gives the rest of the path as `rest`)."""
    path = f"{prefix}/{req.route_params.get('rest', '')}".rstrip("/")
    allowed: set[str] = set()
    for route in _by_precedence():
        match = route.path_pattern.match(path)
        if match is None:
            continue
        if route.method != req.method.upper():
            allowed.add(route.method)
            continue
        routed = func.HttpRequest(
            method=req.method,
            url=req.url,
            headers=dict(req.headers),
            params=dict(req.params),
            route_params=match.groupdict(),
            body=req.get_body(),
        )
        from shared.core.telemetry import name_route

        name_route(route.method, route.route)
        return api.trigger(route)(routed)
    if allowed:
        response = problem(405, f"{req.method} is not allowed here; use {', '.join(sorted(allowed))}.")
        response.headers["Allow"] = ", ".join(sorted(allowed))
        return response
    return problem(404, "There is no such API resource; see /api/openapi.json for the API's paths.")


def openapi_response() -> func.HttpResponse:
    document = build_document(
        all_routes(),
        title="EHR virtual visits connector: portal API",
        version=__version__,
        server=get_runtime().settings.public_base,
    )
    return json_response(document)
