"""Join-link tokens: short enough for a text, bound to what they were issued for, and refused once changed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.secrets.env import EnvSecretStore
from shared.visits.join_links import JoinLinkRefused, JoinLinks
from shared.visits.models import appointment_key
from tests.support.clock import FakeClock

START = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
BASE = "https://connector-contoso.azurewebsites.net"
TENANT = str(uuid.uuid4())
ENDPOINT = uuid.uuid4().hex[:16]
KEY = appointment_key(TENANT, ENDPOINT, "csn:778899001")


def links(secret: str = "a join-link key") -> JoinLinks:
    store = EnvSecretStore({"SECRET_JOIN_LINK_KEY": secret})
    return JoinLinks(
        secrets=store,
        clock=FakeClock(START),
        public_base=BASE,
        opens_before=timedelta(minutes=30),
        closes_after=timedelta(minutes=60),
    )


def issue(join_links: JoinLinks, tenant: str = TENANT, key: str = KEY) -> str:
    url = join_links.issue(
        tenant_id=tenant,
        endpoint_id=ENDPOINT,
        appointment_key=key,
        role="interpreter",
        start=START,
        end=START + timedelta(minutes=30),
    )
    assert url.startswith(f"{BASE}/api/join#")
    return url.rsplit("#", 1)[1]


def test_a_token_is_short_and_carries_its_claims() -> None:
    token = issue(links())
    assert len(token) == 94  # with a typical host name the whole link is about 150 characters
    claims = links().decode(token)
    assert (claims.tenant_id, claims.endpoint_id, claims.appointment_key) == (TENANT, ENDPOINT, KEY)
    assert claims.role == "interpreter"
    assert claims.opens == START - timedelta(minutes=30)
    assert claims.closes == START + timedelta(minutes=90)


def test_another_key_refuses_the_token() -> None:
    with pytest.raises(JoinLinkRefused):
        links("the rotated key").decode(issue(links()))


@given(position=st.integers(min_value=0, max_value=93), replacement=st.sampled_from("AQgw-_09"))
def test_any_changed_character_is_refused(position: int, replacement: str) -> None:
    token = issue(links())
    changed = token[:position] + replacement + token[position + 1 :]
    if changed == token or base64.urlsafe_b64decode(changed + "==") == base64.urlsafe_b64decode(token + "=="):
        return  # the same bytes (the last character's unused bits)
    with pytest.raises(JoinLinkRefused):
        links().decode(changed)


def test_identifiers_that_do_not_pack_use_signed_json() -> None:
    token = issue(links(), tenant="not-a-guid", key="k" * 12)
    assert "." in token
    claims = links().decode(token)
    assert (claims.tenant_id, claims.appointment_key) == ("not-a-guid", "k" * 12)


def test_links_already_sent_in_the_json_form_still_work() -> None:
    payload = {"t": TENANT, "e": ENDPOINT, "a": KEY, "r": "patient", "nb": 1795000000, "exp": 1795005400}
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    mac = hmac.new(hashlib.sha256(b"a join-link key").digest(), body.encode(), hashlib.sha256).digest()
    signature = base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    assert links().decode(f"{body}.{signature}").appointment_key == KEY


@pytest.mark.parametrize("token", ["", "nonsense", "a.b", "A" * 94, "x" * 1001, "%%%"])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(JoinLinkRefused):
        links().decode(token)
