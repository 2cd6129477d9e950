"""Who is who in a meeting (shared/writeback/attribution.py), from the links opened and the order people came."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.visits.models import VisitEvent, VisitEventKind
from shared.writeback.attribution import Attributed, Attribution

T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
TENANT = "11111111-1111-1111-1111-111111111111"
GUEST: dict[str, Any] = {"Guest": {"Id": "g"}}


def opened(minutes: float, kind: VisitEventKind, link: str | None = None) -> VisitEvent:
    role = "patient" if kind == "patient_sent" else "guest"
    at = T0 + timedelta(minutes=minutes)
    return VisitEvent(
        appointment_key="k", id=f"sent|{at:%H%M%S}", endpoint_id="e", kind=kind, at=at, role=role, link=link
    )


def test_a_clinician_is_a_user_of_the_organisations_tenant() -> None:
    roles = Attribution(TENANT, [])
    assert roles.of("c", {"User": {"Id": "u", "TenantId": TENANT.upper()}}) == Attributed("clinician", False, None)
    assert roles.of("x", {"User": {"Id": "u", "TenantId": "another"}}).estimate is True


def test_a_reloaded_guest_link_is_one_guest_and_the_patient_after_them_is_certain() -> None:
    links = [opened(0, "guest_sent"), opened(1, "guest_sent")]  # the interpreter opened the link, then reloaded
    interpreter = Attribution(TENANT, links).of("interpreter", GUEST)
    assert (interpreter.role, interpreter.estimate) == ("guest", False)
    joined = VisitEvent(
        appointment_key="k",
        id="n1:0",
        endpoint_id="e",
        kind="participant_joined",
        at=T0 + timedelta(minutes=2),
        participant="interpreter",
        role=interpreter.role,
        estimate=interpreter.estimate,
        link=interpreter.link,
    )
    later = Attribution(TENANT, [*links, joined, opened(3, "patient_sent", "p1")])
    assert later.of("patient", GUEST) == Attributed("patient", False, "p1")  # not the reload's leftover


def test_when_the_links_left_are_of_mixed_roles_the_role_is_an_estimate() -> None:
    roles = Attribution(TENANT, [opened(0, "guest_sent"), opened(30, "patient_sent", "p1")])
    first = roles.of("first", GUEST)
    assert (first.role, first.estimate) == ("guest", True)
    assert roles.of("second", GUEST) == Attributed("patient", True, "p1")  # what a guess left is a guess too


def test_patients_of_a_group_each_take_their_own_link_and_a_reopened_one_counts_once() -> None:
    events = [opened(0, "patient_sent", "a"), opened(1, "patient_sent", "b"), opened(2, "patient_sent", "a")]
    roles = Attribution(TENANT, events)
    assert roles.of("first", GUEST) == Attributed("patient", False, "a")
    assert roles.of("second", GUEST) == Attributed("patient", False, "b")
    assert roles.of("third", GUEST) == Attributed("guest", True, None)  # no link left: a guest, estimated
    assert roles.of("first", GUEST) == Attributed("patient", False, "a")  # remembered


def test_with_no_link_opened_the_first_joiner_is_an_estimated_patient() -> None:
    roles = Attribution(TENANT, [])
    assert roles.of("one", GUEST) == Attributed("patient", True, None)
    assert roles.of("two", GUEST) == Attributed("guest", True, None)
