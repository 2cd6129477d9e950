"""The local stand-in for the Azure Functions host (no Core Tools can be installed offline).

It indexes `app.get_functions()` once and then:
- serves every HTTP trigger under the route prefix (host.json, default `api`) with the trigger's methods,
  route template, auth level (FUNCTION: a function or master key in `code` or `x-functions-key`; ADMIN: the
  master key), query, headers and body; sync functions run in a thread pool, `async def` ones on the loop;
  a URL over 4 KB gets 414 and a body over 100 MB 413, as from the Functions host;
- fires timer triggers on their NCRONTAB schedule (dev/host/timers.py);
- pumps queue triggers from storage with retry and poison semantics (dev/host/queues.py);
- serves `web/` at `/`.
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import json
import logging
import math
import mimetypes
import re
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import azure.functions as func
import azure.functions.timer as func_timer
from aiohttp import web

from dev.host.queues import QueueBinding, QueueOptions, QueuePump
from dev.host.routes import RouteTemplate, decode_path
from dev.host.timers import ScheduledTimer, TimerScheduler
from shared.core.clock import Clock, SystemClock
from shared.core.ratelimit import TokenBucket
from shared.core.usage import usage

log = logging.getLogger("dev.host")

_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$")
_SETTING_REFERENCE = re.compile(r"%([^%]+)%")
MAX_REQUEST_BYTES = 100 * 1024 * 1024  # the Functions host's default request size limit
MAX_URL_BYTES = 4096  # the Functions host's URL length limit (path and query); longer ones get 414


class HostError(RuntimeError):
    """The app uses something the dev host cannot serve faithfully; the message says what."""


def timespan_seconds(value: str | float | int) -> float:
    if isinstance(value, int | float):
        return float(value)
    match = _TIMESPAN.match(value)
    if not match:
        raise HostError(f"host.json time span {value!r} is not in [d.]hh:mm:ss form")
    days, hours, minutes, seconds, fraction = match.groups()
    total = int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + int(seconds)
    return total + (float(f"0.{fraction}") if fraction else 0.0)


@dataclass(frozen=True)
class HostConfig:
    route_prefix: str = "api"
    queues: QueueOptions = field(default_factory=QueueOptions)

    @classmethod
    def load(cls, path: Path) -> HostConfig:
        data = json.loads(path.read_text()) if path.exists() else {}
        extensions = data.get("extensions", {})
        http = extensions.get("http", {})
        queues = extensions.get("queues", {})
        defaults = QueueOptions()
        return cls(
            route_prefix=str(http.get("routePrefix", "api")).strip("/"),
            queues=QueueOptions(
                max_dequeue_count=int(queues.get("maxDequeueCount", defaults.max_dequeue_count)),
                visibility_timeout=timespan_seconds(queues.get("visibilityTimeout", defaults.visibility_timeout)),
                batch_size=int(queues.get("batchSize", defaults.batch_size)),
                max_polling_interval=timespan_seconds(queues.get("maxPollingInterval", defaults.max_polling_interval)),
            ),
        )


@dataclass(frozen=True)
class HostKeys:
    function_keys: tuple[str, ...]
    master_key: str

    def allows(self, level: func.AuthLevel, presented: str | None) -> bool:
        if level == func.AuthLevel.ANONYMOUS:
            return True
        if not presented:
            return False
        accepted = [self.master_key] if level == func.AuthLevel.ADMIN else [self.master_key, *self.function_keys]
        return any(hmac.compare_digest(presented.encode(), key.encode()) for key in accepted if key)


class _Context(func.Context):
    def __init__(self, name: str) -> None:
        self._invocation_id = str(uuid.uuid4())
        self._name = name

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def function_name(self) -> str:
        return self._name

    @property
    def function_directory(self) -> str:
        return str(Path.cwd())

    @property
    def trace_context(self) -> Any:
        return None

    @property
    def retry_context(self) -> Any:
        return None

    @property
    def thread_local_storage(self) -> Any:
        return None


@dataclass
class HttpFunction:
    name: str
    route: RouteTemplate
    methods: frozenset[str] | None
    auth_level: func.AuthLevel


@dataclass
class _Indexed:
    name: str
    user_function: Callable[..., Any]
    trigger_arg: str
    wants_context: bool


class DevHost:
    def __init__(
        self,
        app: func.FunctionApp,
        *,
        keys: HostKeys,
        environ: Mapping[str, str],
        config: HostConfig | None = None,
        web_dir: Path | None = None,
        clock: Clock | None = None,
        max_workers: int = 16,
        anonymous_limit: TokenBucket | None = None,
    ) -> None:
        """`anonymous_limit`: a rate limit per client address for anonymous HTTP triggers (off when None), as
        Front Door's WAF rule does in Azure (infra/modules/ratelimit.bicep): over it, 429 before the function runs."""
        self.config = config or HostConfig()
        self.keys = keys
        self._anonymous_limit = anonymous_limit
        self._environ = environ
        self._web_dir = web_dir.resolve() if web_dir else None
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="function")
        self._functions: dict[str, _Indexed] = {}
        self._http: list[HttpFunction] = []
        timers: list[ScheduledTimer] = []
        queue_bindings: list[QueueBinding] = []
        for function in app.get_functions():  # once: a second call raises
            name = str(function.get_function_name())
            trigger: Any = function.get_trigger()
            kind = trigger.get_binding_name()
            others = [
                b for b in function.get_bindings() if b is not trigger and b.get_dict_repr().get("name") != "$return"
            ]
            if others:
                raise HostError(f"Function {name}: the dev host supports no bindings besides the trigger")
            if function.get_settings_dict("retry_policy"):  # the worker reads it by this name
                raise HostError(f"Function {name}: the dev host does not apply function retry policies")
            user_function = function.get_user_function()
            parameters = inspect.signature(user_function).parameters
            self._functions[name] = _Indexed(name, user_function, trigger.name, "context" in parameters)
            if kind == "httpTrigger":
                methods = getattr(trigger, "methods", None)
                self._http.append(
                    HttpFunction(
                        name,
                        RouteTemplate(str(getattr(trigger, "route", None) or name)),
                        frozenset(str(getattr(m, "value", m)).upper() for m in methods) if methods else None,
                        func.AuthLevel(getattr(trigger, "auth_level", None) or func.AuthLevel.FUNCTION),
                    )
                )
            elif kind == "timerTrigger":
                timers.append(ScheduledTimer(name, self._resolve(trigger.schedule), bool(trigger.run_on_startup)))
            elif kind == "queueTrigger":
                setting = getattr(trigger, "connection", None) or "AzureWebJobsStorage"
                connection_string = environ.get(setting)
                if not connection_string:
                    raise HostError(f"Function {name}: queue connection setting {setting} is not set")
                queue_bindings.append(QueueBinding(name, self._resolve(trigger.queue_name), connection_string))
            else:
                raise HostError(f"Function {name}: the dev host does not support {kind} triggers")
        # The Functions host tries HTTP routes in the alphabetical order of their function names, not by how
        # specific they are (azure-functions-host issues 3153 and 9876): the first whose template and methods
        # match takes the request. Overlapping routes must be named accordingly (see functions/portal/__init__.py).
        self._http.sort(key=lambda f: f.name.casefold())
        self.timers = TimerScheduler(timers, clock or SystemClock(), self._invoke_timer)
        self.queues = QueuePump(queue_bindings, self.config.queues, self._invoke_queue)

    def _resolve(self, value: str) -> str:
        """Binding expressions such as %QUEUE_NAME% are app settings, as in the Functions host."""

        def lookup(match: re.Match[str]) -> str:
            if match.group(1) not in self._environ:
                raise HostError(f"Binding expression %{match.group(1)}% names a setting that is not set")
            return self._environ[match.group(1)]

        return _SETTING_REFERENCE.sub(lookup, value)

    @property
    def function_names(self) -> list[str]:
        return list(self._functions)

    async def _call(self, name: str, argument: Any) -> Any:
        usage.record("function", name)  # an execution, as Flex Consumption bills it
        indexed = self._functions[name]
        kwargs: dict[str, Any] = {indexed.trigger_arg: argument}
        if indexed.wants_context:
            kwargs["context"] = _Context(name)
        if inspect.iscoroutinefunction(indexed.user_function):
            return await indexed.user_function(**kwargs)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: indexed.user_function(**kwargs))

    async def _invoke_timer(self, name: str, past_due: bool) -> None:
        await self._call(name, func_timer.TimerRequest(past_due=past_due))

    async def _invoke_queue(self, name: str, message: func.QueueMessage) -> None:
        await self._call(name, message)

    async def _handle_http(self, request: web.Request) -> web.StreamResponse:
        prefix = f"/{self.config.route_prefix}" if self.config.route_prefix else ""
        path = request.path
        if prefix and not (path == prefix or path.startswith(prefix + "/")):
            return await self._serve_web(request)
        if len(request.raw_path.encode()) > MAX_URL_BYTES:
            return _problem(414, "URI Too Long", "The address is longer than 4 KB; shorten its path or query.")
        found = self.route(request.method, decode_path(request.raw_path.split("?", 1)[0][len(prefix) :]))
        if found is not None:
            candidate, route_params = found
            presented = request.query.get("code") or request.headers.get("x-functions-key")
            if not self.keys.allows(candidate.auth_level, presented):
                return web.Response(status=401)
            if candidate.auth_level == func.AuthLevel.ANONYMOUS and self._anonymous_limit is not None:
                wait = math.ceil(self._anonymous_limit.take(request.remote or "unknown"))
                if wait:
                    detail = "Too many requests from this address; try again shortly."
                    return _problem(429, "Too Many Requests", detail, {"Retry-After": str(wait)})
            return await self._run_http(candidate.name, request, route_params)
        return web.Response(status=404)

    def route(self, method: str, path: str) -> tuple[HttpFunction, dict[str, str]] | None:
        """The HTTP function a request takes, as the Functions host picks it (the first by function name whose
        template and methods match), with its route parameters; `path` is decoded, without the route prefix."""
        for candidate in self._http:
            route_params = candidate.route.match(path)
            if route_params is None:
                continue
            if candidate.methods is not None and method not in candidate.methods:
                continue
            return candidate, route_params
        return None

    async def _run_http(self, name: str, request: web.Request, route_params: dict[str, str]) -> web.StreamResponse:
        headers: dict[str, str] = {}
        for key, value in request.headers.items():
            headers[key.lower()] = f"{headers[key.lower()]}, {value}" if key.lower() in headers else value
        http_request = func.HttpRequest(
            method=request.method,
            url=str(request.url),
            headers=headers,
            params=dict(request.query),
            route_params=route_params,
            body=await request.read(),
        )
        try:
            return _to_web_response(await self._call(name, http_request))
        except Exception:
            log.exception("Function %s failed", name)
            return web.Response(status=500)

    async def _serve_web(self, request: web.Request) -> web.StreamResponse:
        if self._web_dir is None or request.method not in {"GET", "HEAD"}:
            return web.Response(status=404)
        relative = decode_path(request.path).lstrip("/")
        target = (self._web_dir / relative).resolve()
        if not target.is_relative_to(self._web_dir):
            return web.Response(status=404)
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            if "." in Path(relative).name:
                return web.Response(status=404)
            target = self._web_dir / "index.html"  # client-side routes of the SPA
            if not target.is_file():
                return web.Response(status=404)
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return web.FileResponse(target, headers={"Content-Type": content_type, "Cache-Control": "no-cache"})

    def web_application(self, extra_routes: list[web.RouteDef] | None = None) -> web.Application:
        """The host's HTTP app; `extra_routes` (dev-only pages) are matched before functions and web/."""
        application = web.Application(client_max_size=MAX_REQUEST_BYTES)
        application.router.add_routes(extra_routes or [])
        application.router.add_route("*", "/{tail:(?s:.*)}", self._handle_http)  # any character, newlines too
        return application

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> web.Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return web.json_response(body, status=status, headers=headers, content_type="application/problem+json")


def _to_web_response(result: Any) -> web.Response:
    if result is None:
        return web.Response(status=204)
    if isinstance(result, str | bytes):
        body = result.encode() if isinstance(result, str) else result
        return web.Response(body=body, content_type="text/plain", charset="utf-8")
    if not isinstance(result, func.HttpResponse):
        raise HostError(f"HTTP functions must return an HttpResponse, not {type(result).__name__}")
    headers = list(result.headers.items())  # pairs: repeated headers (Set-Cookie) stay repeated
    if not any(key.lower() == "content-type" for key, _ in headers) and result.get_body():
        mimetype = result.mimetype or "text/plain"
        headers.append(("Content-Type", f"{mimetype}; charset={result.charset}" if result.charset else mimetype))
    return web.Response(status=result.status_code, body=result.get_body(), headers=headers)
