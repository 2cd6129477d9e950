"""A function app that exercises every trigger shape the dev host must serve, recording what it receives."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import azure.functions as func


@dataclass
class Recorder:
    timer_calls: list[bool] = field(default_factory=list)
    queue_calls: list[tuple[bytes, int | None]] = field(default_factory=list)


def build_app(recorder: Recorder) -> func.FunctionApp:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

    @app.route(route="items/{id:int}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
    async def get_item(req: func.HttpRequest) -> func.HttpResponse:
        body = {
            "id": req.route_params["id"],
            "query": dict(req.params),
            "header": req.headers.get("x-test"),
            "url": req.url,
        }
        return func.HttpResponse(json.dumps(body), mimetype="application/json")

    @app.route(route="items/new", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
    def new_item_form(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("form")

    @app.route(route="items/{id:int}", methods=["POST", "PUT"], auth_level=func.AuthLevel.ANONYMOUS)
    def write_item(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(
            json.dumps({"method": req.method, "body": req.get_body().decode()}),
            status_code=201,
            mimetype="application/json",
        )

    @app.route(route="files/{*path}", auth_level=func.AuthLevel.ANONYMOUS)
    def files(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(req.route_params.get("path", ""))

    # Overlapping routes: the Functions host tries them by function name, so the template first by name wins.
    @app.route(route="shadow/{name}", auth_level=func.AuthLevel.ANONYMOUS)
    def a_shadow_any(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("any")

    @app.route(route="shadow/exact", auth_level=func.AuthLevel.ANONYMOUS)
    def b_shadow_exact(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("exact")

    @app.route(route="secure")
    def secure(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("function level ok")

    @app.route(route="admin/ops", auth_level=func.AuthLevel.ADMIN)
    def admin_ops(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("admin level ok")

    @app.route(route="boom", auth_level=func.AuthLevel.ANONYMOUS)
    def boom(req: func.HttpRequest) -> func.HttpResponse:
        raise RuntimeError("internal detail that must not leak")

    @app.route(route="context", auth_level=func.AuthLevel.ANONYMOUS)
    def with_context(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
        return func.HttpResponse(context.function_name)

    @app.timer_trigger(schedule="0 * * * * *", arg_name="timer")
    def every_minute(timer: func.TimerRequest) -> None:
        recorder.timer_calls.append(timer.past_due)

    @app.queue_trigger(arg_name="message", queue_name="%WORK_QUEUE%", connection="AzureWebJobsStorage")
    def work(message: func.QueueMessage) -> None:
        body = message.get_body()
        recorder.queue_calls.append((body, message.dequeue_count))
        if json.loads(body).get("fail"):
            raise RuntimeError("cannot process")

    return app
