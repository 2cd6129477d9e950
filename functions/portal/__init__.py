"""The admin portal API, one module per resource: organisation, endpoints (and integration records), approval,
audit, SMS setup, phone numbers, writeback, reports, sign-in, and a visit's participants.

Every route but the EHR's redirect back after an approver's sign-in (which a browser follows, and which is
protected by its single-use state) and the sign-in configuration needs a portal bearer token, and every read
or write is scoped to the caller's tenant. Routes are declared in registry.py's `api`; `/api/openapi.json` is
built from the same declarations.
"""

from __future__ import annotations

import azure.functions as func

from functions._http import json_response
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


@bp.route(route="openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def openapi(req: func.HttpRequest) -> func.HttpResponse:
    document = build_document(
        all_routes(),
        title="EHR virtual visits connector: portal API",
        version=__version__,
        server=get_runtime().settings.public_base,
    )
    return json_response(document)
