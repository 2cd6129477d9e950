"""Portal token validation against a loopback Entra ID (OpenID configuration and JWKS over HTTP)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from dev.fakes.identity import LocalIssuer
from dev.host.serving import ServerThread
from shared.auth.principal import Role
from shared.auth.tokens import PortalAuthenticator
from shared.core.clock import Clock, SystemClock
from shared.core.errors import Forbidden, Unauthenticated
from shared.core.jwt_verify import JwksCache
from shared.core.outbound import Outbound
from tests.support.clock import FakeClock
from tests.support.entra_stub import EntraStub
from tests.support.portal import new_tenant, problem

AUDIENCE = "6f1f7a52-0000-4000-8000-00000000c0de"
TENANT = str(uuid.uuid4())


@pytest.fixture
def entra() -> Iterator[EntraStub]:
    stub = EntraStub()
    with ServerThread(stub.application()) as server:
        stub.url = server.url
        yield stub


def authenticator(
    entra: EntraStub,
    *,
    clock: Clock | None = None,
    environment: str = "prod",
    local_issuer: str | None = None,
    allowed_tenants: frozenset[str] = frozenset(),
) -> PortalAuthenticator:
    clock = clock or SystemClock()
    return PortalAuthenticator(
        audience=AUDIENCE,
        entra_authority=entra.url,
        environment=environment,
        jwks=JwksCache(Outbound(5, allow_private=True), clock, timedelta(hours=1)),  # the Entra stub: loopback
        clock=clock,
        local_issuer=local_issuer,
        allowed_tenants=allowed_tenants,
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_entra_token_gives_the_caller_their_tenant_and_roles(entra: EntraStub) -> None:
    token = entra.mint(tenant_id=TENANT, audience=AUDIENCE, roles=["Connector.Admin", "Other.Role"], username="A@x.org")
    principal = authenticator(entra).authenticate(bearer(token))
    assert principal.tenant_id == TENANT
    assert principal.username == "a@x.org"
    assert principal.roles == frozenset({Role.ADMIN})


def test_keys_are_cached_and_refetched_for_an_unknown_kid(entra: EntraStub) -> None:
    clock = FakeClock(datetime.now(UTC))
    auth = authenticator(entra, clock=clock)
    for _ in range(3):
        auth.authenticate(bearer(entra.mint(tenant_id=TENANT, audience=AUDIENCE, roles=[], username="a@x.org")))
    assert entra.jwks_requests == 1
    entra.rotate()
    rotated = entra.mint(tenant_id=TENANT, audience=AUDIENCE, roles=[], username="a@x.org")
    # Within a minute of the last fetch an unknown kid is refused without asking again (no hammering).
    with pytest.raises(Unauthenticated, match="does not publish"):
        auth.authenticate(bearer(rotated))
    assert entra.jwks_requests == 1
    clock.advance(seconds=61)
    auth.authenticate(bearer(rotated))
    assert entra.jwks_requests == 2


def test_issuer_must_match_the_token_tenant(entra: EntraStub) -> None:
    token = entra.mint(
        tenant_id=TENANT, audience=AUDIENCE, roles=[], username="a@x.org", iss=f"{entra.url}/{uuid.uuid4()}/v2.0"
    )
    with pytest.raises(Unauthenticated, match="issuer we do not trust"):
        authenticator(entra).authenticate(bearer(token))


def test_tenants_outside_the_allow_list_are_refused_before_any_fetch(entra: EntraStub) -> None:
    token = entra.mint(tenant_id=TENANT, audience=AUDIENCE, roles=[], username="a@x.org")
    with pytest.raises(Forbidden, match="not enabled"):
        authenticator(entra, allowed_tenants=frozenset({str(uuid.uuid4())})).authenticate(bearer(token))
    assert entra.configuration_requests == entra.jwks_requests == 0


@pytest.mark.parametrize("tenant", ["../../evil", "common", "x" * 40, "72F988BF-86F1-41AF-91AB"])
def test_a_tenant_that_is_not_a_tenant_id_is_refused_before_any_fetch(entra: EntraStub, tenant: str) -> None:
    token = entra.mint(tenant_id=tenant, audience=AUDIENCE, roles=[], username="a@x.org")
    with pytest.raises(Unauthenticated, match="issuer we do not trust"):
        authenticator(entra).authenticate(bearer(token))
    assert entra.configuration_requests == entra.jwks_requests == 0


def test_keys_that_cannot_be_fetched_are_a_401_and_the_failure_is_remembered_briefly(entra: EntraStub) -> None:
    clock = FakeClock(datetime.now(UTC))
    auth = authenticator(entra, clock=clock)
    token = entra.mint(tenant_id=TENANT, audience=AUDIENCE, roles=[], username="a@x.org")
    entra.failing = True
    for _ in range(3):
        with pytest.raises(Unauthenticated, match="cannot be verified"):
            auth.authenticate(bearer(token))
    assert entra.configuration_requests == 1  # not once per request
    entra.failing = False
    clock.advance(seconds=61)
    assert auth.authenticate(bearer(token)).tenant_id == TENANT


def test_the_key_cache_is_bounded(entra: EntraStub) -> None:
    cache = JwksCache(Outbound(5, allow_private=True), FakeClock(datetime.now(UTC)), timedelta(hours=1), max_entries=3)
    for _ in range(10):
        cache.document(f"{entra.url}/{uuid.uuid4()}/v2.0/.well-known/openid-configuration")
    assert cache.size == 3


def test_local_issuer_tokens_are_refused_outside_local(entra: EntraStub, identity: LocalIssuer) -> None:
    token = identity.mint(username="admin@contoso.example", roles=["Connector.Admin"], audience=AUDIENCE)
    local = authenticator(entra, environment="local", local_issuer=identity.url)
    assert local.authenticate(bearer(token)).roles == frozenset({Role.ADMIN})
    with pytest.raises(Unauthenticated, match="refused outside ENVIRONMENT=local"):
        authenticator(entra, environment="test", local_issuer=identity.url).authenticate(bearer(token))
    with pytest.raises(Unauthenticated, match="issuer we do not trust"):
        authenticator(entra).authenticate(bearer(token))


def test_expiry_is_checked_with_the_injected_clock(entra: EntraStub) -> None:
    clock = FakeClock(datetime.now(UTC))
    auth = authenticator(entra, clock=clock)
    token = entra.mint(tenant_id=TENANT, audience=AUDIENCE, roles=[], username="a@x.org")
    auth.authenticate(bearer(token))
    clock.advance(hours=1, minutes=3)  # past exp plus the two-minute leeway
    with pytest.raises(Unauthenticated, match="expired"):
        auth.authenticate(bearer(token))


def test_the_portal_reads_its_sign_in_settings_anonymously_and_learns_who_signed_in(
    http: httpx.Client, identity: LocalIssuer
) -> None:
    config = http.get("/api/portal/sign-in")
    assert config.status_code == 200
    assert (config.json()["method"], config.json()["local_issuer"]) == ("local", identity.url)
    problem(http.get("/api/portal/me"), 401)
    tenant = new_tenant(http, identity)
    me = tenant.call("GET", "portal/me", as_user="Analyst@NorthClinic.example", roles=["Connector.Approver"])
    assert me.status_code == 200
    assert me.json()["tenant_id"] == tenant.id
    assert me.json()["roles"] == ["Connector.Approver"]
    assert me.json()["username"].lower() == "analyst@northclinic.example"
