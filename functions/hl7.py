"""HL7v2 scheduling messages: over HTTP (`POST /api/hl7/{endpoint_id}`) verified, parsed, queued and acknowledged;
from the `hl7-appointments` queue of the organisation's geography (one trigger per enabled geography) applied to
the appointment (failures are retried, then go to that account's `hl7-appointments-poison`). The app account's
`hl7-inbound` queue of earlier versions is still drained."""

from __future__ import annotations

from collections.abc import Iterable

import azure.functions as func

from functions._geography import geography_triggers
from functions._telemetry import traced
from shared.core.geography import Geography
from shared.hl7.framing import MAX_MESSAGE_BYTES
from shared.runtime import get_runtime
from shared.storage.queue_names import HL7_APPOINTMENTS, HL7_INBOUND

bp = func.Blueprint()
HL7_CONTENT_TYPE = "application/hl7-v2; charset=utf-8"


@bp.route(route="hl7/{endpoint_id}", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@traced
def receive_hl7(req: func.HttpRequest) -> func.HttpResponse:
    body = req.get_body() or b""
    if len(body) > MAX_MESSAGE_BYTES:
        return func.HttpResponse("Messages are 1 MB at most.", status_code=413, mimetype="text/plain")
    ack = get_runtime().scheduling.hl7_ingest.receive(
        req.route_params["endpoint_id"],
        body,
        content_type=req.headers.get("content-type"),
        signature=req.headers.get("hl7-signature"),
    )
    return func.HttpResponse(ack.body, status_code=ack.http_status, headers={"Content-Type": HL7_CONTENT_TYPE})


@bp.queue_trigger(arg_name="message", queue_name=HL7_INBOUND, connection="AzureWebJobsStorage")
@traced
def process_hl7(message: func.QueueMessage) -> None:
    from shared.scheduling.models import InboundHl7

    inbound = InboundHl7.model_validate_json(message.get_body())
    get_runtime().scheduling.appointments.process(inbound)


def _apply_change(geography: Geography, body: bytes) -> None:
    from shared.scheduling.models import AppointmentChange

    get_runtime().scheduling.appointments.apply(AppointmentChange.model_validate_json(body))


def geography_blueprint(geographies: Iterable[Geography]) -> func.Blueprint:
    """The `hl7-appointments` trigger of each enabled geography."""
    return geography_triggers(geographies, queue=HL7_APPOINTMENTS, name="apply_appointments", handle=_apply_change)
