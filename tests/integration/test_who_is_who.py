"""Who is the patient in the meeting (issue 33 item 8), through the real app: the clinician's launch (the sandbox
EHR), the links people open (patient launches, join links, invites), Graph's notifications (the Graph stub) at
our webhook, the participant-events queue on Azurite, and FHIR writeback into the sandbox EHR. Graph names an
anonymous joiner by a guest ID only: the connector matches them to the links it opened."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from dev.fakes.sandbox_ehr import SAMPLE_APPOINTMENTS, SandboxEhr
from shared.visits.models import appointment_key
from tests.conftest import AppHost, GraphMeetings
from tests.support.portal import Tenant
from tests.support.visits import follow_join_link, launch
from tests.support.writeback import Visit, call, clinician, roster

GROUP_ONE, GROUP_TWO = SAMPLE_APPOINTMENTS[2], SAMPLE_APPOINTMENTS[3]
RANGE = "start=2026-11-01&end=2027-01-31"  # the scripted events' day (tests/support/writeback.py) and today


def guest(name: str) -> dict[str, Any]:
    return {"Id": f"p-{name}", "Identity": {"Guest": {"Id": f"guest-{name}", "DisplayName": name}}}


def connected(tenant: Tenant, key: str) -> list[tuple[str, bool]]:
    answer = tenant.call("GET", f"visits/{key}/participants")
    assert answer.status_code == 200, answer.text
    return [(p["role"], p["estimate"]) for p in answer.json()["connected"]]


def arrivals(ehr: SandboxEhr) -> list[str]:
    return [w.body["status"] for w in ehr.writebacks.of_kind("appointment_status") if w.body["status"] == "arrived"]


def report_row(tenant: Tenant, key: str) -> dict[str, Any]:
    answer = tenant.call("GET", f"portal/reports/visits?{RANGE}")
    assert answer.status_code == 200, answer.text
    rows: list[dict[str, Any]] = [r for r in answer.json()["items"] if r["appointment_key"] == key]
    assert len(rows) == 1
    return rows[0]


def test_an_interpreter_who_joins_first_is_not_taken_for_the_patient(
    start_visit: Callable[[str], Visit], tenant: Tenant, ehr: SandboxEhr, app: AppHost, http: httpx.Client
) -> None:
    visit = start_visit("fhir")
    invite = http.post(
        f"/api/visits/{visit.key}/invites", json={"role": "interpreter"}, headers={"Cookie": visit.cookie}
    )
    assert invite.status_code == 201, invite.text
    for _ in range(2):  # the interpreter's phone opens the link, then reloads the page
        assert follow_join_link(httpx.Client(), invite.json()["join_url"]).status_code == 302
    visit.notify(call("CallStarted", 0))
    visit.notify(roster(1, joined=[clinician(tenant)]))
    visit.notify(roster(2, joined=[guest("Ines")]))  # the interpreter, before the patient
    app.pump()
    assert connected(tenant, visit.key) == [("clinician", False), ("guest", False)]
    assert arrivals(ehr) == []  # the EHR is not told the patient arrived

    patient, _ = launch(http, ehr, SAMPLE_APPOINTMENTS[0], "patient")  # the patient's launch from the portal
    assert patient.status_code == 302, patient.text
    visit.notify(roster(5, joined=[guest("Pat")]))
    app.pump()
    assert connected(tenant, visit.key) == [("clinician", False), ("guest", False), ("patient", False)]
    assert arrivals(ehr) == ["arrived"]
    audits = [w.body for w in ehr.writebacks.of_kind("audit_event")]
    assert [a["agent"][0]["type"]["coding"][0]["code"] for a in audits] == ["PPRF", "PART", "SBJ"]
    assert report_row(tenant, visit.key)["estimated_roles"] == []


def test_both_patients_of_a_group_visit_count_as_patients(
    tenant: Tenant,
    ehr: SandboxEhr,
    app: AppHost,
    http: httpx.Client,
    graph_meetings: GraphMeetings,
    start_visit: Callable[[str], Visit],
) -> None:
    follow_up = start_visit("none")  # the endpoint and its clinician; the group's meeting is another one
    before = set(graph_meetings.stub.subscriptions)
    assert launch(http, ehr, GROUP_ONE, "provider")[0].status_code == 302
    (subscription,) = graph_meetings.stub.meeting_subscriptions() - before
    group = Visit(
        tenant,
        ehr,
        follow_up.endpoint,
        appointment_key(tenant.id, follow_up.endpoint, "conference:GRP42"),
        subscription,
        "",
        graph_meetings,
        follow_up.server,
    )
    for patient in (GROUP_ONE, GROUP_TWO):  # each patient's own launch, into the group's meeting
        assert launch(http, ehr, patient, "patient")[0].status_code == 302
    group.notify(call("CallStarted", 0))
    group.notify(roster(1, joined=[clinician(tenant)]))
    group.notify(roster(2, joined=[guest("Ann")]))
    group.notify(roster(3, joined=[guest("Bob")]))
    app.pump()
    assert connected(tenant, group.key) == [("clinician", False), ("patient", False), ("patient", False)]
    answer = tenant.call("GET", f"visits/{group.key}/participants")
    assert answer.json()["counts"] == {"clinician": 1, "patient": 2, "guest": 0}
    row = report_row(tenant, group.key)
    assert row["attendees"] == 3 and row["estimated_roles"] == []


def test_a_guest_with_no_link_is_an_estimated_guest_and_claims_no_arrival(
    start_visit: Callable[[str], Visit], tenant: Tenant, ehr: SandboxEhr, app: AppHost, http: httpx.Client
) -> None:
    visit = start_visit("fhir")
    assert launch(http, ehr, SAMPLE_APPOINTMENTS[0], "patient")[0].status_code == 302
    visit.notify(call("CallStarted", 0))
    visit.notify(roster(1, joined=[clinician(tenant)]))
    visit.notify(roster(2, joined=[guest("Pat")]))
    visit.notify(roster(3, joined=[guest("Someone")]))  # given the meeting's address by someone: no link of ours
    app.pump()
    assert connected(tenant, visit.key) == [("clinician", False), ("patient", False), ("guest", True)]
    assert arrivals(ehr) == ["arrived"]  # the patient's, once; nothing for the guest
    audits = [w.body for w in ehr.writebacks.of_kind("audit_event")]
    assert audits[-1]["agent"][0]["type"]["coding"][0]["code"] == "PART"
    assert audits[-1]["outcomeDesc"] == "guest (role estimated) connected to the virtual visit"
    row = report_row(tenant, visit.key)
    assert row["estimated_roles"] == ["guest"]
    csv = tenant.call("GET", f"portal/reports/visits?{RANGE}&format=csv")
    assert csv.status_code == 200, csv.text
    header, *lines = csv.text.splitlines()
    column = header.split(",").index("estimated_roles")
    assert [line.split(",")[column] for line in lines if line.startswith(visit.key)] == ["guest"]


def test_with_nobody_sent_the_first_guest_is_an_estimated_patient_and_claims_no_arrival(
    start_visit: Callable[[str], Visit], tenant: Tenant, ehr: SandboxEhr, app: AppHost
) -> None:
    """No link of ours was opened (the meeting's address went round some other way): the first joiner is
    probably the patient, so the visit report counts them, flagged; the EHR is told nothing about arrival."""
    visit = start_visit("fhir")
    visit.notify(roster(1, joined=[clinician(tenant)]))
    visit.notify(roster(2, joined=[guest("Pat")]))
    app.pump()
    assert connected(tenant, visit.key) == [("clinician", False), ("patient", True)]
    assert arrivals(ehr) == []
    assert report_row(tenant, visit.key)["estimated_roles"] == ["patient"]
