"""EHR writeback: each endpoint's writeback settings, and the writebacks that failed, which an admin can send
again once the EHR is back."""

from __future__ import annotations

from functions.portal.parameters import EndpointPath, FailedWritebackPath
from functions.portal.registry import Call, api
from shared.writeback.models import (
    WritebackFailure,
    WritebackFailureList,
    WritebackFailurePublic,
    WritebackSettingsPublic,
    WritebackSettingsUpdate,
)


@api.route(
    "GET",
    "portal/endpoints/{endpoint_id}/writeback",
    summary="The endpoint's EHR writeback settings (admins)",
    tag="writeback",
    response=WritebackSettingsPublic,
    parameters=EndpointPath,
)
def get_writeback_settings(call: Call[None]) -> WritebackSettingsPublic:
    setup = call.runtime.writeback.writeback_setup
    return setup.public(setup.get(call.principal, call.param("endpoint_id")))


@api.route(
    "PUT",
    "portal/endpoints/{endpoint_id}/writeback",
    summary="Set how connect and disconnect go back to the endpoint's EHR (admins)",
    description="The connector signs in with SMART backend services (RS384 client assertions); register "
    "`jwks_url` with the EHR for the client ID.",
    tag="writeback",
    request=WritebackSettingsUpdate,
    response=WritebackSettingsPublic,
    parameters=EndpointPath,
)
def put_writeback_settings(call: Call[WritebackSettingsUpdate]) -> WritebackSettingsPublic:
    setup = call.runtime.writeback.writeback_setup
    return setup.public(setup.update(call.principal, call.param("endpoint_id"), call.body))


@api.route(
    "GET",
    "portal/writebacks/failed",
    summary="Writebacks that failed or are being retried, newest first (admins)",
    tag="writeback",
    response=WritebackFailureList,
)
def list_failed_writebacks(call: Call[None]) -> WritebackFailureList:
    return call.runtime.writeback.failures.list_failures(call.principal)


@api.route(
    "POST",
    "portal/writebacks/failed/{event_id}/replay",
    summary="Send a failed writeback again (admins)",
    description="Queues the meeting event again; events of it that reached the EHR before are not sent twice.",
    tag="writeback",
    response=WritebackFailurePublic,
    status=202,
    errors=(409,),
    parameters=FailedWritebackPath,
)
def replay_writeback(call: Call[None]) -> WritebackFailure:
    return call.runtime.writeback.failures.replay(call.principal, call.param("event_id"))
