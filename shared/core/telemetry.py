"""Traces and log fields (OpenTelemetry), set up once per worker when a function first runs.

- Where spans go: to Azure Monitor with `APPLICATIONINSIGHTS_CONNECTION_STRING` (the Azure Monitor distro, which
  also traces the Azure SDKs), to an OTLP/HTTP collector with `OTEL_EXPORTER_OTLP_ENDPOINT`, to the console with
  `TELEMETRY_CONSOLE=true` (local runs); nowhere otherwise. When the Functions worker has set up OpenTelemetry
  itself (`PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY`), or a test has, that is used as it is.
- Outbound HTTP (httpx: EHRs, identity providers, Graph) and the Azure SDKs get client spans, whose URLs keep no
  table row keys and no query values (`span_urls`).
- Trace context crosses queues inside each message (`_trace`), so one HL7 message, its appointment's texts and
  one visit's events each make one trace.
- Log records carry fields that say what the work is about (`bind`): organisation, endpoint, appointment key,
  HL7 control ID, SMS message ID. Never names, phone numbers, tokens or message bodies: those are not fields,
  and a test scans every record and span of the main flows for them.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace

log = logging.getLogger(__name__)

FIELDS = ("tenant_id", "endpoint_id", "appointment_key", "hl7_control_id", "sms_message_id")
"""What a log record or span may say about the work, as record attributes and `connector.<field>` span attributes."""
CARRIER = "_trace"
"""The key of the W3C trace context in a queue message's JSON."""
TRACER = "ehr_connector"

_fields: ContextVar[Mapping[str, str]] = ContextVar("telemetry_fields", default=MappingProxyType({}))
_configured = threading.Event()
_lock = threading.Lock()


@functools.cache
def tracer() -> trace.Tracer:
    """The app's tracer (a proxy until a provider is set, which it then follows), made once."""
    return trace.get_tracer(TRACER)


def bind(**fields: str | None) -> None:
    """Say what the current work is about: on every log record from here on in this context, and on the span."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"not telemetry fields: {sorted(unknown)}")
    values = {name: str(value) for name, value in fields.items() if value}
    if not values:
        return
    _fields.set({**_fields.get(), **values})
    trace.get_current_span().set_attributes({f"connector.{name}": value for name, value in values.items()})


@contextlib.contextmanager
def fresh_fields() -> Iterator[None]:
    """A piece of work's own fields (a trigger's run), forgotten when it ends."""
    token = _fields.set(MappingProxyType({}))
    try:
        yield
    finally:
        _fields.reset(token)


def carrier() -> dict[str, str]:
    """The current trace context, as a queue message carries it (empty when nothing is traced)."""
    values: dict[str, str] = {}
    propagate.inject(values)
    return values


def context_of(body: bytes | str) -> otel_context.Context | None:
    """The trace context a queue message carries, if any (a body that is not a JSON object carries none)."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    values = data.get(CARRIER) if isinstance(data, dict) else None
    if not isinstance(values, dict):
        return None
    return propagate.extract({str(k): str(v) for k, v in values.items()})


def carried() -> Callable[[], contextlib.AbstractContextManager[None]]:
    """The caller's trace context and fields, to enter on another thread or event loop (Graph's)."""
    span_context = otel_context.get_current()
    fields = _fields.get()

    @contextlib.contextmanager
    def enter() -> Iterator[None]:
        token = otel_context.attach(span_context)
        fields_token = _fields.set(fields)
        try:
            yield
        finally:
            _fields.reset(fields_token)
            otel_context.detach(token)

    return enter


def _add_fields_to_records() -> None:
    """Every log record, from any logger, gets the bound fields as attributes (exported as custom dimensions)."""
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        for name, value in _fields.get().items():
            setattr(record, name, value)
        return record

    logging.setLogRecordFactory(factory)


def _provider_is_set() -> bool:
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider | trace.NoOpTracerProvider)


def configure(environ: Mapping[str, str] | None = None) -> str:
    """Set up tracing and log fields once per process; returns where spans go."""
    if _configured.is_set():  # every trigger run asks: no lock once it is done
        return "already"
    environ = os.environ if environ is None else environ
    with _lock:
        if _configured.is_set():
            return "already"
        _configured.set()
        _quiet_request_logs()
        _add_fields_to_records()
        where = _set_up_exporter(environ)
        if where != "none":
            _instrument_clients()
        log.info("Telemetry: spans go to %s", where)
        return where


# Loggers of the HTTP clients that log each request's URL at INFO: table row keys (sender numbers, EHR user IDs),
# FHIR searches and Graph paths. Logs are kept where more people read them than read the data: warnings only.
REQUEST_LOGGERS = ("azure.core.pipeline.policies.http_logging_policy", "httpx", "httpcore", "urllib3", "msal")


def _quiet_request_logs() -> None:
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)


def console_on(environ: Mapping[str, str]) -> bool:
    return environ.get("TELEMETRY_CONSOLE", "").strip().lower() in ("1", "true", "yes")


def destination(environ: Mapping[str, str]) -> str:
    """Where the settings send spans ("none" when nowhere), as `configure` sets it up and `make run` says."""
    if environ.get("APPLICATIONINSIGHTS_CONNECTION_STRING"):
        return "Azure Monitor"
    endpoint = environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    where = [f"OTLP {endpoint}"] * bool(endpoint) + ["the console"] * console_on(environ)
    return " and ".join(where) or "none"


def _set_up_exporter(environ: Mapping[str, str]) -> str:
    if _provider_is_set():
        return "the worker's provider"
    where = destination(environ)
    if where == "Azure Monitor":
        from azure.monitor.opentelemetry import configure_azure_monitor

        # Only what this app uses is instrumented (the Azure SDKs; httpx below, with its URLs redacted): the SDKs'
        # own HTTP spans, not requests' and urllib3's underneath them.
        not_here = ("django", "fastapi", "flask", "httpx", "psycopg2", "requests", "urllib", "urllib3")
        configure_azure_monitor(
            instrumentation_options={name: {"enabled": False} for name in not_here},
            logger_name="",  # every logger: the app's, the SDKs'
            **_entra_credential(environ),
        )
        return where
    if where == "none":
        return where
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

    provider = TracerProvider(
        resource=Resource.create({"service.name": environ.get("OTEL_SERVICE_NAME") or "ehr-virtual-visits-connector"})
    )
    if environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip():
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))  # reads the OTEL_EXPORTER_OTLP_* settings
    if console_on(environ):
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    return where


def _entra_credential(environ: Mapping[str, str]) -> dict[str, Any]:
    """With local authentication off (infra/modules/monitoring.bicep), telemetry is sent with the app's managed
    identity, named as the Functions host reads it: `APPLICATIONINSIGHTS_AUTHENTICATION_STRING`
    (`ClientId=<id>;Authorization=AAD`)."""
    parts = dict(
        part.split("=", 1)
        for part in environ.get("APPLICATIONINSIGHTS_AUTHENTICATION_STRING", "").split(";")
        if "=" in part
    )
    if parts.get("Authorization", "").upper() != "AAD":
        return {}
    from azure.identity import ManagedIdentityCredential

    return {"credential": ManagedIdentityCredential(client_id=parts.get("ClientId") or None)}


def _instrument_clients() -> None:
    """Client spans for httpx (every client, Graph's included) and the Azure SDKs."""
    from azure.core.settings import settings
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    from shared.core import span_urls

    if not HTTPXClientInstrumentor().is_instrumented_by_opentelemetry:
        HTTPXClientInstrumentor().instrument(
            request_hook=span_urls.httpx_request_hook, async_request_hook=span_urls.httpx_async_request_hook
        )
    settings.tracing_implementation = span_urls.azure_span_class()  # its URLs without row keys or query values


@contextlib.contextmanager
def trigger_span(name: str, argument: Any) -> Iterator[trace.Span]:
    """The span of one run of a trigger, by the kind of its argument: an HTTP request continues the caller's trace
    (`traceparent`), a queue message the trace of whoever queued it (linked to the worker's own span), a timer
    starts one. No URL is recorded: paths and queries can hold tokens (join links, OAuth codes)."""
    configure()
    links: list[trace.Link] = []
    parent: otel_context.Context | None = None
    attributes: dict[str, Any] = {"faas.name": name}
    kind = trace.SpanKind.INTERNAL
    if hasattr(argument, "method") and hasattr(argument, "headers"):
        kind = trace.SpanKind.SERVER
        extracted = propagate.extract(dict(argument.headers))
        if trace.get_current_span(extracted).get_span_context().is_valid:  # else the worker's context, if any
            parent = extracted
        attributes |= {"faas.trigger": "http", "http.request.method": argument.method}
    elif hasattr(argument, "dequeue_count"):
        kind = trace.SpanKind.CONSUMER
        parent = context_of(argument.get_body())
        current = trace.get_current_span().get_span_context()
        if parent is not None and current.is_valid:
            links.append(trace.Link(current))
        attributes |= {
            "faas.trigger": "pubsub",
            "messaging.system": "azure_queue",
            "messaging.operation.type": "process",
            "messaging.message.id": str(argument.id or ""),
            "messaging.azure_queue.dequeue_count": int(argument.dequeue_count or 0),
        }
    else:
        attributes["faas.trigger"] = "timer"
    with (
        fresh_fields(),
        tracer().start_as_current_span(name, context=parent, kind=kind, links=links, attributes=attributes) as span,
    ):
        yield span


def record_response(span: trace.Span, status: int) -> None:
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_status(trace.StatusCode.ERROR)


def name_route(method: str, template: str) -> None:
    """Name the current HTTP span after the route the router chose (`GET portal/endpoints/{endpoint_id}`)."""
    span = trace.get_current_span()
    span.update_name(f"{method} {template}")
    span.set_attribute("http.route", template)
