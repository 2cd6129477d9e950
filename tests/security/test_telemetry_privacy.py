"""What telemetry keeps of the outbound calls: storage spans' URLs name the table, never a row's keys (EHR user
IDs, the organisations' sender numbers) or a query's values, and no span of the app's own calls holds them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import httpx
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from dev.fakes.sandbox_ehr import SAMPLE_APPOINTMENTS, SandboxEhr
from shared.core.span_urls import REDACTED
from tests.conftest import AppHost, GraphMeetings
from tests.support.clinic import Clinic, deliver
from tests.support.hl7 import siu
from tests.support.visits import launch


def _url(span: ReadableSpan) -> str:
    attributes = span.attributes or {}
    return str(attributes.get("url.full") or attributes.get("http.url") or "")


def test_storage_spans_name_tables_but_not_row_keys_or_query_values(
    app: AppHost,
    clinic: Clinic,
    sandbox: SandboxEhr,
    http: httpx.Client,
    graph_meetings: GraphMeetings,
    spans: InMemorySpanExporter,
) -> None:
    spans.clear()
    soon = (datetime.now(UTC) + timedelta(minutes=10)).replace(second=0, microsecond=0)
    deliver(app, clinic, siu("S12", soon, control="PRIV1"))  # a text from the clinic's sender number
    answer, _ = launch(http, sandbox, SAMPLE_APPOINTMENTS[0], "provider")  # the clinician's EHR user ID is kept
    assert answer.status_code == 302, answer.text
    # The app's own client spans (the test's requests to the app are traced by the same instrumentation).
    calls = [
        _url(s)
        for s in spans.get_finished_spans()
        if s.kind == trace.SpanKind.CLIENT and not _url(s).startswith(app.server.url)
    ]
    user = sandbox.user.id
    for url in calls:
        assert user not in url and clinic.sender[2:] not in url, url
        for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
            assert name.lower() in ("api-version", "comp", "restype") or value == REDACTED, url
    assert any(f"ehrusers({REDACTED})" in url for url in calls), calls  # the row was read: its table is named
