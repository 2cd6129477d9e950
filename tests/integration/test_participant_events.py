"""The participant-events processor: a scripted visit's notifications become visit events with roles, stored
in the organisation's geography without names, once per event however often Graph delivers them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.auth.principal import Principal, Role
from shared.core.settings import Geography, Settings
from shared.runtime import Runtime, get_runtime
from shared.setup.models import FhirEndpoint, Organisation, OrganisationCreate
from shared.setup.tables import FhirEndpointRepository
from shared.visits.tables import VisitEventRepository
from shared.writeback.models import MeetingEventMessage
from tests.conftest import AppHost
from tests.support.portal import APPROVER_ROLES, Tenant, new_tenant, problem
from tests.support.portal import organisation as organisation_of

T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.fixture
def organisation(settings: Settings) -> tuple[Runtime, Organisation]:
    runtime = Runtime(settings)
    admin = Principal(str(uuid.uuid4()), "admin", "admin@x.org", frozenset({Role.ADMIN}))
    created = runtime.setup.organisations.create(
        admin, OrganisationCreate(display_name="North", geography=Geography.EU)
    )
    return runtime, created


def person(user_id: str, tenant: str | None = None, name: str = "Someone") -> dict[str, object]:
    if tenant:
        return {"Id": f"p-{user_id}", "Identity": {"User": {"Id": user_id, "DisplayName": name, "TenantId": tenant}}}
    return {"Id": f"p-{user_id}", "Identity": {"Guest": {"Id": user_id, "DisplayName": name}}}


def message(org: Organisation, event_id: str, minutes: int, data: dict[str, object]) -> MeetingEventMessage:
    return MeetingEventMessage(
        event_id=event_id,
        subscription_id="s1",
        tenant_id=org.tenant_id,
        endpoint_id="e1",
        appointment_key="b" * 40,
        change_type="updated",
        resource="communications/onlineMeetings/x/meetingCallEvents",
        data={**data, "eventDateTime": (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")},
        received_at=T0,
    )


def roster(joined: list[dict[str, object]] = (), exited: list[dict[str, object]] = ()) -> dict[str, object]:  # type: ignore[assignment]
    return {
        "eventType": "Microsoft.Communication.CallRosterUpdate",
        "activeParticipants@joined": list(joined),
        "activeParticipants@exited": list(exited),
    }


def test_a_scripted_visit_becomes_visit_events_with_roles(organisation: tuple[Runtime, Organisation]) -> None:
    runtime, org = organisation
    clinician = person("user-c1", tenant=org.tenant_id, name="Dr Who")
    patient, interpreter = person("g1", name="Pat"), person("g2", name="Ines")
    script = [
        message(org, "n1", 0, {"eventType": "Microsoft.Communication.CallStarted"}),
        message(org, "n2", 0, roster(joined=[clinician])),
        message(org, "n3", 2, roster(joined=[patient])),
        message(org, "n4", 3, roster(joined=[interpreter])),
        message(org, "n5", 20, roster(exited=[patient, interpreter])),
        message(org, "n6", 21, roster(exited=[clinician])),
        message(org, "n7", 21, {"eventType": "Microsoft.Communication.CallEnded"}),
    ]
    for item in script:
        runtime.writeback.participant_events.process(item)
    for item in script[2:4]:  # Graph delivers some again
        assert runtime.writeback.participant_events.process(item) == []
    rows = sorted(runtime.platform.tables.data(org, VisitEventRepository).iterate("b" * 40), key=lambda e: (e.at, e.id))
    summary = [(e.kind, e.role, int((e.at - T0).total_seconds() // 60)) for e in rows]
    assert summary == [
        ("call_started", None, 0),
        ("participant_joined", "clinician", 0),
        ("participant_joined", "patient", 2),
        ("participant_joined", "guest", 3),
        ("participant_left", "patient", 20),
        ("participant_left", "guest", 20),
        ("participant_left", "clinician", 21),
        ("call_ended", None, 21),
    ]
    stored = " ".join(e.model_dump_json() for e in rows)
    assert "Pat" not in stored and "Dr Who" not in stored and "user-c1" not in stored
    # EU organisation: the rows are in the EU account, not the US one.
    assert list(runtime.platform.tables.in_geography(Geography.US, VisitEventRepository).iterate("b" * 40)) == []


def test_unknown_event_types_are_ignored(organisation: tuple[Runtime, Organisation]) -> None:
    runtime, org = organisation
    assert runtime.writeback.participant_events.process(message(org, "x1", 0, {"eventType": "Something.Else"})) == []


def test_the_participants_view_shows_who_is_connected_now(app: AppHost, tenant: Tenant) -> None:
    runtime = get_runtime()
    principal = Principal(tenant.id, "admin", "admin@x.org", frozenset({Role.ADMIN}))
    org = runtime.setup.organisations.get(principal)
    endpoint = uuid.uuid4().hex[:16]
    runtime.platform.tables.control(FhirEndpointRepository).upsert(
        FhirEndpoint.model_validate(
            {
                "tenant_id": tenant.id,
                "id": endpoint,
                "base_url": "https://ehr.example/fhir",
                "environment": "test",
                "approver": "a@x.org",
                "time_zone": "UTC",
                "vendor": "epic",
                "client_id": "c",
                "discovery": {
                    "source": "smart-configuration",
                    "authorization_endpoint": "https://ehr.example/a",
                    "token_endpoint": "https://ehr.example/t",
                },
                "created_at": T0,
                "created_by": "t",
                "updated_at": T0,
                "updated_by": "t",
            }
        )
    )
    clinician, patient = person("c1", tenant=org.tenant_id), person("g1")
    for item in [
        message(org, "v1", 0, {"eventType": "Microsoft.Communication.CallStarted"}),
        message(org, "v2", 1, roster(joined=[clinician])),
        message(org, "v3", 4, roster(joined=[patient])),
        message(org, "v4", 9, roster(exited=[clinician])),
    ]:
        runtime.writeback.participant_events.process(item.model_copy(update={"endpoint_id": endpoint}))
    answer = tenant.call("GET", f"visits/{'b' * 40}/participants")
    assert answer.status_code == 200, answer.text
    status = answer.json()
    assert status["call_active"] is True and status["counts"] == {"clinician": 0, "patient": 1, "guest": 0}
    assert [(p["role"], p["since"][:16]) for p in status["connected"]] == [("patient", "2026-11-23T15:04")]
    problem(tenant.call("GET", f"visits/{'b' * 40}/participants", roles=APPROVER_ROLES), 403)
    other = organisation_of(new_tenant(tenant.http, tenant.identity))
    problem(other.call("GET", f"visits/{'b' * 40}/participants"), 404)
