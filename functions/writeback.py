"""EHR writeback in the portal API: each endpoint's writeback settings, and the writebacks that failed, which an
admin can send again once the EHR is back. The `participant-events-poison` trigger marks a writeback failed
when the queue gives up on it."""

from __future__ import annotations

import azure.functions as func

from functions._http import api_errors, json_response, parse_json, portal_caller
from functions._openapi import ApiRoutes
from shared.runtime import get_runtime
from shared.storage.queues import PARTICIPANT_EVENTS
from shared.writeback.models import (
    MeetingEventMessage,
    WritebackFailureList,
    WritebackFailurePublic,
    WritebackSettingsPublic,
    WritebackSettingsUpdate,
)

bp = func.Blueprint()
api = ApiRoutes(bp)


@api.route(
    "GET",
    "portal/endpoints/{endpoint_id}/writeback",
    summary="The endpoint's EHR writeback settings (admins)",
    tag="writeback",
    response=WritebackSettingsPublic,
)
@api_errors
def get_writeback_settings(req: func.HttpRequest) -> func.HttpResponse:
    runtime, principal = portal_caller(req)
    settings = runtime.writeback.writeback_setup.get(principal, req.route_params["endpoint_id"])
    return json_response(runtime.writeback.writeback_setup.public(settings))


@api.route(
    "PUT",
    "portal/endpoints/{endpoint_id}/writeback",
    summary="Set how connect and disconnect go back to the endpoint's EHR (admins)",
    description="The connector signs in with SMART backend services (RS384 client assertions); register "
    "`jwks_url` with the EHR for the client ID.",
    tag="writeback",
    request=WritebackSettingsUpdate,
    response=WritebackSettingsPublic,
)
@api_errors
def put_writeback_settings(req: func.HttpRequest) -> func.HttpResponse:
    runtime, principal = portal_caller(req)
    update = parse_json(req, WritebackSettingsUpdate)
    settings = runtime.writeback.writeback_setup.update(principal, req.route_params["endpoint_id"], update)
    return json_response(runtime.writeback.writeback_setup.public(settings))


@api.route(
    "GET",
    "portal/writebacks/failed",
    summary="Writebacks that failed or are being retried, newest first (admins)",
    tag="writeback",
    response=WritebackFailureList,
)
@api_errors
def list_failed_writebacks(req: func.HttpRequest) -> func.HttpResponse:
    runtime, principal = portal_caller(req)
    return json_response(runtime.writeback.failures.list_failures(principal))


@api.route(
    "POST",
    "portal/writebacks/failed/{event_id}/replay",
    summary="Send a failed writeback again (admins)",
    description="Queues the meeting event again; events of it that reached the EHR before are not sent twice.",
    tag="writeback",
    response=WritebackFailurePublic,
    status=202,
    errors=(409,),
)
@api_errors
def replay_writeback(req: func.HttpRequest) -> func.HttpResponse:
    runtime, principal = portal_caller(req)
    failure = runtime.writeback.failures.replay(principal, req.route_params["event_id"])
    return json_response(WritebackFailurePublic.of(failure), status=202)


@bp.queue_trigger(arg_name="message", queue_name=f"{PARTICIPANT_EVENTS}-poison", connection="AzureWebJobsStorage")
def participant_event_poisoned(message: func.QueueMessage) -> None:
    get_runtime().writeback.failures.poisoned(MeetingEventMessage.model_validate_json(message.get_body()))
