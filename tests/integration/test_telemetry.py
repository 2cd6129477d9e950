"""Traces and log records through the real app: one HL7 message is one trace across its queue hops (HTTP, the
geography's `hl7-appointments`, then `sms-outbound`), with client spans for the Azure SDK and httpx calls; and no
log record or span of the main flows says a patient's name, phone number, a token or a text's body."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from dev.fakes.sandbox_ehr import SAMPLE_APPOINTMENTS, SandboxEhr
from shared.core import telemetry
from tests.conftest import AppHost, GraphMeetings
from tests.support.clinic import PHONE, Clinic, deliver
from tests.support.hl7 import siu
from tests.support.portal import Tenant
from tests.support.texts import sent_texts
from tests.support.visits import JOIN_LINK, follow_join_link, launch
from tests.support.writeback import Visit, clinician, roster

EHR = trace.get_tracer("the EHR")


def trace_of(spans: InMemorySpanExporter, trace_id: int) -> list[ReadableSpan]:
    return [s for s in spans.get_finished_spans() if s.context is not None and s.context.trace_id == trace_id]


def test_one_hl7_message_is_one_trace_across_its_queue_hops(
    app: AppHost, clinic: Clinic, spans: InMemorySpanExporter
) -> None:
    with EHR.start_as_current_span("EHR sends S12") as sent:
        deliver(app, clinic, siu("S12", clinic.start, control="TRACE1"))
    mine = trace_of(spans, sent.get_span_context().trace_id)
    by_name = {s.name: s for s in mine}
    received, applied, texted = by_name["receive_hl7"], by_name["apply_appointments_eu"], by_name["send_texts_eu"]
    assert received.kind == trace.SpanKind.SERVER and received.parent is not None
    assert received.attributes is not None and received.attributes["http.response.status_code"] == 200
    # Each queue hop continues the trace of the run that queued the message, as a consumer span.
    assert applied.kind == texted.kind == trace.SpanKind.CONSUMER
    ids = {s.context.span_id: s for s in mine if s.context is not None}

    def ancestors(span: ReadableSpan) -> list[str]:
        names = []
        while span.parent is not None and span.parent.span_id in ids:
            span = ids[span.parent.span_id]
            names.append(span.name)
        return names

    assert "receive_hl7" in ancestors(applied)
    assert ancestors(texted)[:1] != [] and "apply_appointments_eu" in ancestors(texted)
    # The log fields of the work are on its spans.
    assert applied.attributes is not None and applied.attributes["connector.hl7_control_id"] == "TRACE1"
    assert applied.attributes["connector.tenant_id"] == clinic.tenant.id
    assert texted.attributes is not None and texted.attributes["connector.sms_message_id"]
    # Client spans for storage (the Azure SDK's HTTP calls) within the same trace.
    clients = [s for s in mine if s.kind == trace.SpanKind.CLIENT]
    sdk = [s for s in clients if s.instrumentation_scope and s.instrumentation_scope.name.startswith("azure.core")]
    assert sdk and all(s.attributes and s.attributes.get("http.request.method") for s in sdk)


def test_a_launch_traces_its_calls_to_the_ehr_and_graph(
    app: AppHost,
    clinic: Clinic,
    sandbox: SandboxEhr,
    http: httpx.Client,
    graph_meetings: GraphMeetings,
    spans: InMemorySpanExporter,
) -> None:
    with EHR.start_as_current_span("clinician clicks") as clicked:
        answer, _ = launch(http, sandbox, SAMPLE_APPOINTMENTS[0], "provider")
    assert answer.status_code == 302, answer.text
    mine = trace_of(spans, clicked.get_span_context().trace_id)
    callback = next(s for s in mine if s.name == "launch_callback")
    assert callback.attributes is not None and callback.attributes["connector.appointment_key"]
    # The app's calls within the clinician's trace: the EHR's token endpoint (only the app posts there; the
    # browser's own requests are traced too) and Graph's meeting creation.
    outbound = [(s.name, _url(s)) for s in mine if s.kind == trace.SpanKind.CLIENT]
    assert any(name == "POST" and url.startswith(sandbox.url) and "token" in url for name, url in outbound), outbound
    assert any(url.endswith("/onlineMeetings/createOrGet") for _, url in outbound), outbound


def test_a_visit_event_is_one_trace_from_graph_to_the_ehr_writeback(
    start_visit: Callable[[str], Visit], tenant: Tenant, ehr: SandboxEhr, app: AppHost, spans: InMemorySpanExporter
) -> None:
    visit = start_visit("epic")
    spans.clear()
    visit.notify(roster(1, joined=[clinician(tenant)]))
    app.pump()
    finished = spans.get_finished_spans()
    [webhook] = [s for s in finished if s.name == "meeting_events" and s.kind == trace.SpanKind.SERVER]
    assert webhook.context is not None
    mine = trace_of(spans, webhook.context.trace_id)
    [processed] = [s for s in mine if s.name == "process_participant_event_eu"]  # in the visit's geography
    assert processed.kind == trace.SpanKind.CONSUMER
    assert processed.attributes is not None and processed.attributes["connector.appointment_key"] == visit.key
    # The writeback to the EHR (its backend token, then the connection status) in the same trace.
    writes = [_url(s) for s in mine if s.kind == trace.SpanKind.CLIENT and _url(s).startswith(ehr.url)]
    assert len(writes) >= 1, [_url(s) for s in mine]
    assert [w.body["ConnectionStatus"] for w in ehr.writebacks.of_kind("connection_status")] == ["Connected"]


def _url(span: ReadableSpan) -> str:
    """A client span's URL (the Azure SDK uses the stable attribute, httpx's instrumentation the older one)."""
    attributes = span.attributes or {}
    return str(attributes.get("url.full") or attributes.get("http.url") or "")


def _said(record: logging.LogRecord) -> str:
    standard = set(vars(logging.LogRecord("", 0, "", 0, "", (), None)))  # not the factory's: it adds the fields
    extras = [f"{k}={v}" for k, v in vars(record).items() if k not in standard]
    return " ".join([record.getMessage(), record.exc_text or "", *extras])


def _shown(span: ReadableSpan) -> str:
    parts: list[Any] = [span.name, *(span.attributes or {}).values()]
    for event in span.events:
        parts += [event.name, *(event.attributes or {}).values()]
    return " ".join(str(p) for p in parts)


def test_no_record_or_span_names_a_patient_or_holds_a_phone_number_token_or_text(
    app: AppHost,
    clinic: Clinic,
    sandbox: SandboxEhr,
    http: httpx.Client,
    graph_meetings: GraphMeetings,
    spans: InMemorySpanExporter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    spans.clear()
    with caplog.at_level(logging.DEBUG):
        soon = (datetime.now(UTC) + timedelta(minutes=10)).replace(second=0, microsecond=0)
        deliver(app, clinic, siu("S12", soon, control="SCAN1"))  # booked: a text with a join link
        [text] = [m for m in sent_texts(clinic.tenant.id) if "booked" in m["body"]]
        link = re.search(JOIN_LINK, text["body"])
        assert link is not None
        joined = follow_join_link(http, link.group(0))  # the patient follows it: the meeting is created
        assert joined.status_code == 302, joined.text
        answer, callback = launch(http, sandbox, SAMPLE_APPOINTMENTS[0], "provider")
        assert answer.status_code == 302, answer.text
        later = datetime.now(UTC) + timedelta(seconds=5)
        deliver(app, clinic, siu("S15", soon, sent=later, control="SCAN2"))  # cancelled: another text
    # What the test's own HTTP client logs of its requests to the app is not the app's to answer for.
    records = [_said(r) for r in caplog.records if app.server.url not in r.getMessage()]
    # The test's own requests to the app (the browser's, the EHR's) are traced too, by the same instrumentation.
    shown = [_shown(s) for s in spans.get_finished_spans() if not _url(s).startswith(app.server.url)]
    assert records and shown
    assert any("hl7_control_id=SCAN1" in r for r in records), [r for r in records if "SCAN1" in r]  # fields
    secrets = {
        "the patient's phone number": [PHONE, PHONE[2:], "217555"],
        "the patient's name": ["Doe", "Jane", "jane.doe"],
        "the patient's date of birth, MRN and visit number": ["19800101", "E100200", "778899001"],
        "the clinician's name": ["Casey", "Avery Analyst"],
        "the join link's token": [link.group(1)],
        "a text's body": [text["body"][:40]],
        "the EHR's codes and tokens": list(sandbox.issued),
        "the launch callback's query": [callback.split("?", 1)[1]],
    }
    assert sandbox.issued
    for what, values in secrets.items():
        for value in values:
            leaked = [line for line in records + shown if value in line]
            assert not leaked, f"{what} in {leaked[0][:600]}"


def test_fields_are_only_the_known_ones() -> None:
    with pytest.raises(ValueError, match="not telemetry fields"):
        telemetry.bind(patient_name="x")
