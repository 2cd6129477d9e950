"""Rotating the join-link key with the operator's command (`make rotate-join-link-key`): links texted before it
still open after it, clinicians stay signed in to their visit panel, and every STOP still holds."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta

import pytest

from ops.__main__ import main as ops
from shared.core.encoding import unb64url
from shared.messaging.models import OptOut
from shared.messaging.tables import OptOutRepository
from shared.runtime import get_runtime
from shared.secrets.env import EnvSecretStore
from shared.secrets.keyring import hmac_key
from tests.conftest import AppHost
from tests.integration.test_scheduling import organisation, texts
from tests.support.clinic import PHONE, Clinic, deliver
from tests.support.hl7 import siu
from tests.support.texts import sent_texts


def token_of(body: str) -> str:
    """The token of the join link in a text, whatever the link's shape."""
    link = re.search(r"https?://\S+", body)
    assert link is not None, body
    found = re.search(r"([A-Za-z0-9_\-.]{40,})$", link.group(0))
    assert found is not None, link.group(0)
    return found.group(1)


def rotate(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    """The operator's command against this run's secret store; then every instance's cache has expired."""
    for name in ("SECRET_JOIN_LINK_KEY", "SECRET_JOIN_LINK_KEY_PREVIOUS"):
        monkeypatch.setenv(name, os.environ.get(name, ""))  # put back after the test
    assert ops(["rotate-join-link-key", "--vault", "this-run"], vault=lambda _: EnvSecretStore(os.environ)) == 0
    for name in ("join-link-key", "join-link-key-previous"):
        get_runtime().platform.secrets.forget(name)  # type: ignore[attr-defined]
    return capsys.readouterr().out


def test_links_texted_before_a_rotation_open_after_it_and_opt_outs_hold(
    app: AppHost, clinic: Clinic, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    runtime = get_runtime()
    deliver(app, clinic, siu("S12", clinic.start, control="ROT1"))
    outbox = sent_texts(clinic.tenant.id)
    texted = token_of(next(m for m in outbox if "booked" in m["body"])["body"])
    session = runtime.visits.sessions.issue(clinic.tenant.id, "k" * 40, "dr.who", clinic.endpoint)
    runtime.platform.tables.data(organisation(clinic), OptOutRepository).upsert(  # the patient texts STOP
        OptOut(
            number_hash=runtime.messaging.sms.number_hash(PHONE), sender=clinic.sender, opted_out_at=datetime.now(UTC)
        )
    )

    said = rotate(monkeypatch, capsys)
    assert "previous key" in said and "still accepted" in said

    assert runtime.visits.join_links.decode(texted).endpoint_id == clinic.endpoint
    assert runtime.visits.sessions.verify(session).ehr_user == "dr.who"
    fresh = runtime.visits.join_links.issue(
        tenant_id=clinic.tenant.id,
        endpoint_id=clinic.endpoint,
        appointment_key="ab" * 20,
        role="guest",
        start=clinic.start,
        end=clinic.start + timedelta(minutes=30),
    )
    signed_by = {token: unb64url(token_of(token) if "/" in token else token)[0] >> 2 for token in (texted, fresh)}
    assert signed_by == {  # each names its key
        texted: hmac_key(os.environ["SECRET_JOIN_LINK_KEY_PREVIOUS"]).short_kid,
        fresh: hmac_key(os.environ["SECRET_JOIN_LINK_KEY"]).short_kid,
    }
    # The patient opted out before the rotation: the reschedule is not texted.
    deliver(app, clinic, siu("S14", clinic.start + timedelta(hours=1), sent=datetime.now(UTC) + timedelta(seconds=5)))
    assert texts(clinic) == [("rescheduled", "opted_out"), ("scheduled", "sent")]
