"""HL7 ordering as a sender with a fast clock (or an attacker holding the signing key for a moment) would use it: a
signed S12 dated minutes ahead must not outrank the messages that follow it, so the appointment keeps moving with
the present; a message dated further ahead than the accepted skew is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from shared.auth.principal import Principal, Role
from shared.hl7.siu import AppointmentEvent, parse_siu
from shared.runtime import get_runtime
from shared.scheduling.appointments import change_from
from shared.visits.models import appointment_key
from shared.visits.tables import AppointmentRepository
from tests.conftest import AppHost
from tests.support.certs import sign
from tests.support.clinic import KEY, Clinic, deliver
from tests.support.hl7 import siu


def _start(clinic: Clinic) -> datetime:
    principal = Principal(clinic.tenant.id, "t", "t@x.org", frozenset({Role.ADMIN}))
    organisation = get_runtime().setup.organisations.get(principal)
    key = appointment_key(clinic.tenant.id, clinic.endpoint, "csn:778899001")
    return get_runtime().platform.tables.data(organisation, AppointmentRepository).get(clinic.endpoint, key).start


def test_a_message_from_the_near_future_does_not_freeze_the_appointment(app: AppHost, clinic: Clinic) -> None:
    now = datetime.now(UTC)
    deliver(app, clinic, siu("S12", clinic.start, sent=now + timedelta(minutes=4), control="AHEAD1"))
    assert _start(clinic) == clinic.start
    moved = clinic.start + timedelta(hours=2)
    # Sent after that message was received: MSH-7 counts whole seconds, so dated in the next one.
    after = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    deliver(app, clinic, siu("S13", moved, sent=after, control="NOW1"))
    assert _start(clinic) == moved
    # Messages dated ahead keep the order they were received in.
    deliver(app, clinic, siu("S13", moved + timedelta(hours=1), sent=now + timedelta(minutes=4), control="AHEAD2"))
    deliver(app, clinic, siu("S13", moved + timedelta(hours=2), sent=now + timedelta(minutes=3), control="AHEAD3"))
    assert _start(clinic) == moved + timedelta(hours=2)


def test_a_message_dated_beyond_the_accepted_skew_is_refused(app: AppHost, clinic: Clinic) -> None:
    body = siu("S12", clinic.start, sent=datetime.now(UTC) + timedelta(minutes=6), control="AHEAD4")
    answer = httpx.post(
        f"{app.server.url}/api/hl7/{clinic.endpoint}",
        content=body,
        headers={"Content-Type": "application/hl7-v2", "HL7-Signature": sign(KEY, body)},
    )
    assert "MSA|AR" in answer.text and "in the future" in answer.text, answer.text


def test_the_ordering_time_is_the_receipt_time_when_msh7_is_later() -> None:
    received = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    ahead = parse_siu(siu("S12", received, sent=received + timedelta(minutes=4)).decode(), ZoneInfo("UTC"))
    behind = parse_siu(siu("S12", received, sent=received - timedelta(seconds=30)).decode(), ZoneInfo("UTC"))

    def version(event: AppointmentEvent, at: datetime) -> str:
        return change_from(event, tenant_id="t", endpoint_id="e", received_at=at, seal=None).version

    assert version(ahead, received).startswith("20260302120000000000|")
    assert version(behind, received).startswith("20260302115930000000|")
    assert version(ahead, received) < version(ahead, received + timedelta(seconds=1))
