"""POST /api/events/sms: Event Grid deliveries from Azure Communication Services (function key required)."""

from __future__ import annotations

import json

import azure.functions as func

from functions._http import api_errors, json_response, problem
from functions._telemetry import traced
from shared.runtime import get_runtime

bp = func.Blueprint()


@bp.route(route="events/sms", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@traced
@api_errors
def sms_events(req: func.HttpRequest) -> func.HttpResponse:
    try:
        events = json.loads(req.get_body() or b"null")
    except ValueError:
        return problem(400, "The body is not JSON.")
    answer = get_runtime().messaging.sms_events.handle(events)
    return json_response(answer) if answer else func.HttpResponse(status_code=200)
