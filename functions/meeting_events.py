"""Meeting events and EHR writeback.

- `POST /api/events/meetings/{geography}`: Graph change notifications (the validation handshake, then
  notifications checked against their subscription's clientState and queued on `participant-events` in that
  geography's account), and that queue's processor per geography (visit events, stored once per event);
  `POST /api/events/meetings` and the app account's `participant-events` serve what an older version subscribed
  and queued, until the renewal timer has moved its subscriptions;
- a timer renewing meetings' event subscriptions before they expire;
- `participant-events-poison`: a writeback the queue gave up on is marked failed, for an admin to send again;
- `POST /api/events/callrecords`: Teams call records (the same handshake and clientState check), queued by ID on
  `call-records`, whose processor keeps each visit's call quality; the timer also keeps that subscription;
- `GET /api/.well-known/jwks/{tenant_id}`: an organisation's public keys for its writeback client assertions
  (SMART backend services), the URL its EHR registers for its backend client.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import azure.functions as func

from functions._geography import geography_triggers
from functions._http import api_errors, json_response, problem
from functions._telemetry import traced
from shared.core.geography import Geography
from shared.runtime import get_runtime
from shared.storage.queue_names import CALL_RECORDS, PARTICIPANT_EVENTS

bp = func.Blueprint()


# The JWKS is read on threads of its own: an EHR fetches it while answering our token request, and that request
# may come from every function thread at once (a batch of writebacks after a token expired); waiting for one of
# them would hold all until they time out.
_JWKS_THREADS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="jwks")


@bp.route(route=".well-known/jwks/{tenant_id}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@traced
async def jwks(req: func.HttpRequest) -> func.HttpResponse:
    run = functools.partial(contextvars.copy_context().run, _jwks, req)
    return await asyncio.get_running_loop().run_in_executor(_JWKS_THREADS, run)


@api_errors
def _jwks(req: func.HttpRequest) -> func.HttpResponse:
    keys = get_runtime().writeback.signing_keys.jwks(req.route_params["tenant_id"])
    return json_response(keys, headers={"Cache-Control": "public, max-age=3600"})


@bp.route(route="events/meetings/{geography}", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@traced
async def meeting_events(req: func.HttpRequest) -> func.HttpResponse:
    segment = req.route_params.get("geography", "")
    geography = next((g for g in Geography if g.value.lower() == segment), None)
    if geography is None:  # only the URLs we subscribe with; nothing is read for any other
        return problem(404, "No meeting events are taken at this URL; subscriptions name a geography: us, eu or apac.")
    return await _webhook(req, lambda payload: get_runtime().writeback.meeting_events.receive(payload, geography))


@bp.route(route="events/meetings", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@traced
async def meeting_events_of_older_subscriptions(req: func.HttpRequest) -> func.HttpResponse:
    return await _webhook(req, lambda payload: get_runtime().writeback.meeting_events.receive(payload, None))


@bp.route(route="events/callrecords", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@traced
async def call_record_events(req: func.HttpRequest) -> func.HttpResponse:
    return await _webhook(req, lambda payload: get_runtime().writeback.call_records.receive(payload))


async def _webhook(req: func.HttpRequest, receive: Callable[[Any], object]) -> func.HttpResponse:
    """A Graph change-notification URL. Async on purpose: Graph's validation handshake arrives while a launch
    waits for Graph to create the subscription. Answered on the event loop, it never waits for a worker thread, all
    of which may be busy with such launches (under load, waiting for one would starve every launch until Graph
    gives up)."""
    token = req.params.get("validationToken")
    if token is not None:  # the subscription's validation: echo the token, as plain text, at once
        if not token or len(token) > 2048:
            return problem(400, "The validation token is empty or too long.")
        return func.HttpResponse(
            token, status_code=200, mimetype="text/plain", headers={"X-Content-Type-Options": "nosniff"}
        )
    # On a worker thread, in this run's context (its span and log fields).
    run = functools.partial(contextvars.copy_context().run, _notifications, req, receive)
    return await asyncio.get_running_loop().run_in_executor(None, run)


@api_errors
def _notifications(req: func.HttpRequest, receive: Callable[[Any], object]) -> func.HttpResponse:
    try:
        payload = json.loads(req.get_body() or b"null")
    except ValueError:
        return problem(400, "The body is not JSON.")
    receive(payload)
    return func.HttpResponse(status_code=202)


@bp.queue_trigger(arg_name="message", queue_name=CALL_RECORDS, connection="AzureWebJobsStorage")
@traced
def process_call_record(message: func.QueueMessage) -> None:
    from shared.writeback.models import CallRecordMessage

    get_runtime().writeback.call_records.process(CallRecordMessage.model_validate_json(message.get_body()))


@bp.timer_trigger(schedule="0 */30 * * * *", arg_name="timer", run_on_startup=False)
@traced
def renew_meeting_subscriptions(timer: func.TimerRequest) -> None:
    writeback = get_runtime().writeback
    writeback.subscriptions.renew_due()
    writeback.call_records.ensure_subscription()
    writeback.call_records.forget_old_meetings()


def _participant_event(message: func.QueueMessage) -> None:
    from shared.writeback.models import MeetingEventMessage

    event = MeetingEventMessage.model_validate_json(message.get_body())
    get_runtime().writeback.participant_events.process(event, attempt=message.dequeue_count or 1)


def _participant_event_poisoned(message: func.QueueMessage) -> None:
    from shared.writeback.models import MeetingEventMessage

    get_runtime().writeback.failures.poisoned(MeetingEventMessage.model_validate_json(message.get_body()))


def geography_blueprint(geographies: Iterable[Geography]) -> func.Blueprint:
    """`participant-events` and its poison queue in each geography's account: a visit's events stay there."""
    geographies = list(geographies)
    bp = geography_triggers(
        geographies,
        queue=PARTICIPANT_EVENTS,
        name="process_participant_event",
        on_message=lambda _geography, message: _participant_event(message),
    )
    return geography_triggers(
        geographies,
        queue=f"{PARTICIPANT_EVENTS}-poison",
        name="participant_event_poisoned",
        on_message=lambda _geography, message: _participant_event_poisoned(message),
        bp=bp,
    )


# The app account's queue: what an older version queued there is still processed.
@bp.queue_trigger(arg_name="message", queue_name=PARTICIPANT_EVENTS, connection="AzureWebJobsStorage")
@traced
def process_participant_event(message: func.QueueMessage) -> None:
    _participant_event(message)


@bp.queue_trigger(arg_name="message", queue_name=f"{PARTICIPANT_EVENTS}-poison", connection="AzureWebJobsStorage")
@traced
def participant_event_poisoned(message: func.QueueMessage) -> None:
    _participant_event_poisoned(message)
