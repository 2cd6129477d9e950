"""No span says an organisation's sender number, a patient's phone number, an EHR user ID or a token: not in a URL
attribute, a span's name, any other attribute or an event, whether the span is a client span of the Azure SDKs or
httpx (tables, queues, Graph, the EHR's FHIR API), a server span of our own routes or a trigger's span. The flow
touches phone-number rows (listed, linked to the endpoint), an opt-out (STOP, START), texts to the patient, and a
clinician's launch (the EHR user's row, the meeting's organizer)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from dev.fakes.sandbox_ehr import SAMPLE_APPOINTMENTS, SandboxEhr
from shared.core.span_urls import redact_url
from tests.conftest import FUNCTION_KEY, AppHost, GraphMeetings
from tests.support.clinic import PHONE, Clinic, deliver
from tests.support.hl7 import siu
from tests.support.notifications import sms_received
from tests.support.texts import sent_texts
from tests.support.visits import JOIN_LINK, launch


def _everything(span: ReadableSpan) -> str:
    parts: list[Any] = [span.name, *(span.attributes or {}).items()]
    for event in span.events:
        parts += [event.name, *(event.attributes or {}).items()]
    for link in span.links:
        parts += [*(link.attributes or {}).items()]
    return " ".join(str(p) for p in parts)


def _forms(value: str) -> list[str]:
    """A value as a URL or a table query may spell it."""
    return sorted({value, quote(value, safe=""), quote(value, safe="/"), value.replace("+", "%2B")})


def test_no_span_holds_a_phone_number_an_ehr_user_id_or_a_token(
    app: AppHost,
    clinic: Clinic,
    sandbox: SandboxEhr,
    http: httpx.Client,
    graph_meetings: GraphMeetings,
    spans: InMemorySpanExporter,
) -> None:
    spans.clear()
    tenant = clinic.tenant
    soon = (datetime.now(UTC) + timedelta(minutes=10)).replace(second=0, microsecond=0)
    assert tenant.call("GET", "portal/phone-numbers").status_code == 200
    number = quote(clinic.sender, safe="")
    linked = tenant.call("PUT", f"portal/phone-numbers/{number}/endpoints", json={"endpoint_ids": [clinic.endpoint]})
    assert linked.status_code == 200, linked.text
    deliver(app, clinic, siu("S12", soon, control="SPAN1"))  # booked: a text from the sender number
    for text in ("STOP", "START"):  # the opt-out row, keyed by the sender number, written and removed
        event = sms_received(message_id=f"in-{text}", sender=PHONE, to=clinic.sender, message=text)
        assert httpx.post(f"{app.server.url}/api/events/sms", json=[event], params={"code": FUNCTION_KEY}).is_success
    app.pump()
    answer, _ = launch(http, sandbox, SAMPLE_APPOINTMENTS[0], "provider")  # the clinician's EHR user row
    assert answer.status_code == 302, answer.text
    [booked] = [m for m in sent_texts(tenant.id) if "booked" in m["body"]]
    found = re.search(JOIN_LINK, booked["body"])
    assert found is not None
    token = found.group(1)

    finished = spans.get_finished_spans()
    shown = [_everything(s) for s in finished]
    assert any("ehrusers" in line for line in shown)  # the flow did touch the rows in question
    ehr_user = "Practitioner/E1001"
    secrets = {
        "the organisation's sender number": _forms(clinic.sender) + [clinic.sender.lstrip("+")],
        "the patient's phone number": _forms(PHONE) + [PHONE.lstrip("+")],
        "the clinician's EHR user ID": _forms(f"{sandbox.fhir_base}/{ehr_user}") + _forms(ehr_user),
        "the join link's token": [token],
    }
    for what, values in secrets.items():
        for value in values:
            leaked = [line for line in shown if value in line]
            assert not leaked, f"{what} ({value}) in {leaked[0][:600]}"


def test_paths_keep_what_a_call_does_but_not_whom_it_names() -> None:
    cases = {
        "https://ehr.example/fhir/Practitioner/E1001": "https://ehr.example/fhir/Practitioner/REDACTED",
        "https://ehr.example/fhir/Appointment/$find": "https://ehr.example/fhir/Appointment/$find",
        "https://graph.microsoft.com/v1.0/users/0b1c/onlineMeetings/createOrGet": (
            "https://graph.microsoft.com/v1.0/users/REDACTED/onlineMeetings/createOrGet"
        ),
        "https://graph.microsoft.com/beta/users/0b1c/onlineMeetings/MSo1/getVirtualAppointmentJoinWebUrl": (
            "https://graph.microsoft.com/beta/users/REDACTED/onlineMeetings/REDACTED/getVirtualAppointmentJoinWebUrl"
        ),
        "https://acs.example/phoneNumbers/+18335550100?api-version=2025-04-01": (
            "https://acs.example/phoneNumbers/REDACTED?api-version=2025-04-01"
        ),
        "https://app.example/api/portal/phone-numbers/%2B18335550100/endpoints": (
            "https://app.example/api/portal/phone-numbers/REDACTED/endpoints"
        ),
        "https://eu.table.example/optouts(PartitionKey='%2B18335550100',RowKey='x')": (
            "https://eu.table.example/optouts(REDACTED)"
        ),
        "https://eu.table.example/$batch": "https://eu.table.example/$batch",
        "https://graph.microsoft.com/v1.0/$batch": "https://graph.microsoft.com/v1.0/$batch",
    }
    assert {url: redact_url(url) for url in cases} == cases
