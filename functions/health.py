"""GET /api/health: the version and whether every configured storage account is reachable (503 if one is not), and
the messages waiting in poison queues; an hourly timer purges poison messages older than a day."""

from __future__ import annotations

import azure.functions as func

from functions._http import api_errors, json_response
from functions._telemetry import traced
from shared.runtime import get_runtime

bp = func.Blueprint()


@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@traced
@api_errors
def health(req: func.HttpRequest) -> func.HttpResponse:
    report = get_runtime().platform.health.check()
    body = {
        "status": "healthy" if report.healthy else "unhealthy",
        "version": report.version,
        "environment": report.environment,
        "storage": {label: "reachable" if ok else "unreachable" for label, ok in report.storage.items()},
        "poison_queues": {queue: count for queue, count in report.poison.items() if count},
    }
    return json_response(body, status=200 if report.healthy else 503)


@bp.timer_trigger(schedule="0 7 * * * *", arg_name="timer", run_on_startup=False)
@traced
def purge_poison_queues(timer: func.TimerRequest) -> None:
    get_runtime().platform.poison_purge.run()
