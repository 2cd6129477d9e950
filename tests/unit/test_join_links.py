"""Join-link tokens: short enough for a text, bound to what they were issued for, and refused once changed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.core.encoding import b64url, peek
from shared.core.errors import Unauthenticated
from shared.secrets import CachedSecretStore
from shared.secrets.env import EnvSecretStore
from shared.secrets.keyring import hmac_key, rotate
from shared.visits.join_links import JoinLinkRefused, JoinLinks
from shared.visits.models import appointment_key
from shared.visits.sessions import VisitSessions
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


def rotating(secret: str = "a join-link key") -> tuple[EnvSecretStore, FakeClock, JoinLinks, VisitSessions]:
    """Links and sessions over one store, whose secrets are cached for five minutes as the app caches them."""
    store = EnvSecretStore({"SECRET_JOIN_LINK_KEY": secret})
    clock = FakeClock(START)
    cached = CachedSecretStore(store, timedelta(minutes=5), clock)
    join_links = JoinLinks(
        secrets=cached,
        clock=clock,
        public_base=BASE,
        opens_before=timedelta(minutes=30),
        closes_after=timedelta(minutes=60),
    )
    return store, clock, join_links, VisitSessions(secrets=cached, clock=clock)


def test_tokens_name_their_key() -> None:
    store, _, join_links, sessions = rotating()
    kid = hmac_key("a join-link key")
    token = issue(join_links)
    assert token.startswith(b64url(bytes([kid.short_kid << 2 | 2]))[:1])
    assert peek(sessions.issue(TENANT, KEY, "dr.who"))["k"] == kid.kid  # type: ignore[index]
    assert json.loads(base64.urlsafe_b64decode(issue(join_links, tenant="x").split(".")[0] + "=="))["k"] == kid.kid


def test_links_and_sessions_from_before_a_rotation_work_after_it_and_not_after_the_next() -> None:
    store, clock, join_links, sessions = rotating()
    packed, sealed, session = issue(join_links), issue(join_links, tenant="x"), sessions.issue(TENANT, KEY, "dr.who")
    rotate(store, "join-link-key")
    clock.advance(minutes=6)  # past the cache
    assert join_links.decode(packed).appointment_key == KEY
    assert join_links.decode(sealed).tenant_id == "x"
    assert sessions.verify(session).ehr_user == "dr.who"
    fresh = issue(join_links)
    assert fresh != packed and join_links.decode(fresh).appointment_key == KEY
    rotate(store, "join-link-key")
    clock.advance(minutes=6)
    assert join_links.decode(fresh).appointment_key == KEY  # now signed with the previous key
    for token in (packed, sealed):
        with pytest.raises(JoinLinkRefused):
            join_links.decode(token)
    with pytest.raises(Unauthenticated):
        sessions.verify(session)


def test_an_instance_whose_cache_holds_the_old_key_accepts_links_signed_with_the_new_one() -> None:
    store, clock, stale, _ = rotating()
    issue(stale)  # caches the key
    rotate(store, "join-link-key")
    _, _, fresh, fresh_sessions = rotating(store.get("join-link-key"))
    assert stale.decode(issue(fresh)).appointment_key == KEY  # an unknown key ID reads the keys again
    with pytest.raises(JoinLinkRefused):  # and a forged one does not make it read again and again
        stale.decode(issue(rotating("forged")[2]))


def test_links_texted_before_key_ids_still_work_after_a_rotation() -> None:
    """The first packed links: first byte 1, no key ID, an HMAC under the key of the time."""
    store, clock, join_links, _ = rotating()
    packed = struct.pack(
        ">B16s8s20sBII",
        1,
        uuid.UUID(TENANT).bytes,
        bytes.fromhex(ENDPOINT),
        bytes.fromhex(KEY),
        0,
        1795000000,
        1795005400,
    )
    key = hashlib.sha256(b"a join-link key").digest()
    legacy = b64url(packed + hmac.new(key, packed, hashlib.sha256).digest()[:16])
    assert join_links.decode(legacy).role == "patient"
    rotate(store, "join-link-key")
    clock.advance(minutes=6)
    assert join_links.decode(legacy).appointment_key == KEY
