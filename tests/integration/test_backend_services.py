"""SMART backend services for EHR writeback: each organisation has its own signing keys and its own JWKS URL,
the sandbox EHR verifies RS384 client assertions against the JWKS URL registered for the client, tokens are
cached per organisation and reused until shortly before expiry, and one organisation's keys rotate safely.
An organisation cannot obtain tokens for another organisation's client."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from dev.fakes.sandbox_ehr import SandboxEhr
from dev.fakes.signing import new_private_key_pem
from shared.core.errors import Unauthenticated
from shared.runtime import get_runtime
from shared.secrets.env import EnvSecretStore
from shared.smart.backend import BackendServices, SigningKeys
from tests.conftest import AppHost
from tests.support.clock import FakeClock

CLIENT = "connector-writeback"
SCOPE = "system/Appointment.write system/AuditEvent.write"


@pytest.fixture
def tenant_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def registered(app: AppHost, sandbox: SandboxEhr, tenant_id: str) -> str:
    """The organisation's key exists (as saving writeback settings makes it) and its EHR registered its JWKS URL."""
    get_runtime().writeback.signing_keys.ensure(tenant_id)
    jwks_url = f"{app.server.url}/api/.well-known/jwks/{tenant_id}"
    sandbox.register_backend_client(CLIENT, jwks_url)
    return jwks_url


def test_each_organisation_publishes_its_own_key_with_a_thumbprint_kid(
    app: AppHost, registered: str, tenant_id: str
) -> None:
    answer = httpx.get(registered)
    assert answer.status_code == 200 and "max-age" in answer.headers["Cache-Control"]
    (key,) = answer.json()["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS384" and key["use"] == "sig" and "d" not in key
    keys = get_runtime().writeback.signing_keys
    assert key["kid"] == keys.current(tenant_id).kid
    other = str(uuid.uuid4())
    assert httpx.get(f"{app.server.url}/api/.well-known/jwks/{other}").json() == {"keys": []}  # none made by a GET
    assert keys.ensure(other).kid != key["kid"]
    assert httpx.get(f"{app.server.url}/api/.well-known/jwks/not%20a%20tenant").status_code == 400


def test_another_organisation_cannot_get_a_token_for_this_organisations_client(
    sandbox: SandboxEhr, registered: str, tenant_id: str
) -> None:
    backend = get_runtime().writeback.backend_services
    token_url = f"{sandbox.url}/oauth2/token"
    mine = backend.token(tenant_id, token_url, CLIENT, SCOPE)
    assert sandbox.backend_tokens[mine] == CLIENT
    intruder = str(uuid.uuid4())
    get_runtime().writeback.signing_keys.ensure(intruder)  # the intruder saved writeback settings naming CLIENT
    with pytest.raises(Unauthenticated, match="jku is not the registered JWKS URL"):
        backend.token(intruder, token_url, CLIENT, SCOPE)  # not served from the first organisation's cache either


def test_a_token_is_issued_reused_and_renewed_after_a_401(sandbox: SandboxEhr, registered: str, tenant_id: str) -> None:
    backend = get_runtime().writeback.backend_services
    token_url = f"{sandbox.url}/oauth2/token"
    token = backend.token(tenant_id, token_url, CLIENT, SCOPE)
    assert sandbox.backend_tokens[token] == CLIENT
    before = sandbox.token_requests
    assert backend.token(tenant_id, token_url, CLIENT, SCOPE) == token  # cached: no second request
    assert sandbox.token_requests == before
    backend.forget(tenant_id, token_url, CLIENT, SCOPE)  # the EHR answered 401
    renewed = backend.token(tenant_id, token_url, CLIENT, SCOPE)
    assert renewed != token and sandbox.token_requests == before + 1


def test_a_token_is_renewed_shortly_before_it_expires(sandbox: SandboxEhr, registered: str, tenant_id: str) -> None:
    runtime = get_runtime()
    clock = FakeClock(datetime.now(UTC) - timedelta(seconds=50))  # behind, so that no assertion is post-dated
    jwks_base = registered.rsplit("/", 1)[0]
    backend = BackendServices(runtime.platform.outbound, runtime.writeback.signing_keys, clock, jwks_base)
    token_url = f"{sandbox.url}/oauth2/token"
    sandbox.backend_token_lifetime = 100
    try:
        first = backend.token(tenant_id, token_url, CLIENT, SCOPE)
        clock.advance(seconds=30)  # 70 seconds left
        assert backend.token(tenant_id, token_url, CLIENT, SCOPE) == first
        clock.advance(seconds=15)  # 55 seconds left: within the minute before expiry
        assert backend.token(tenant_id, token_url, CLIENT, SCOPE) != first
    finally:
        sandbox.backend_token_lifetime = 300


def test_the_assertion_is_what_backend_services_require(sandbox: SandboxEhr, registered: str, tenant_id: str) -> None:
    token_url = f"{sandbox.url}/oauth2/token"
    assertion = get_runtime().writeback.backend_services.assertion(tenant_id, token_url, CLIENT)
    header = jwt.get_unverified_header(assertion)
    claims = jwt.decode(assertion, options={"verify_signature": False})
    assert (header["alg"], header["typ"], header["jku"]) == ("RS384", "JWT", registered)
    assert claims["iss"] == claims["sub"] == CLIENT and claims["aud"] == token_url
    assert claims["exp"] - claims["iat"] <= 300 and claims["jti"]
    form = {
        "grant_type": "client_credentials",
        "scope": SCOPE,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
    }
    assert httpx.post(token_url, data=form).status_code == 200
    replayed = httpx.post(token_url, data=form)  # the same jti again
    assert replayed.status_code == 401 and "jti" in replayed.json()["error_description"]


def test_unknown_clients_and_unpublished_keys_are_refused(sandbox: SandboxEhr, registered: str, tenant_id: str) -> None:
    runtime = get_runtime()
    token_url = f"{sandbox.url}/oauth2/token"
    with pytest.raises(Unauthenticated, match="unknown client"):
        runtime.writeback.backend_services.token(tenant_id, token_url, "someone-else", SCOPE)
    name = f"SECRET_WRITEBACK_KEY_{tenant_id.upper().replace('-', '_')}"
    stranger = SigningKeys(EnvSecretStore({name: new_private_key_pem()}))  # same tenant, a key never published
    jwks_base = registered.rsplit("/", 1)[0]
    rogue = BackendServices(runtime.platform.outbound, stranger, FakeClock(datetime.now(UTC)), jwks_base)
    with pytest.raises(Unauthenticated, match="kid"):
        rogue.token(tenant_id, token_url, CLIENT, SCOPE)


def test_one_organisations_rotation_publishes_its_next_and_previous_keys() -> None:
    tenant, other = str(uuid.uuid4()), str(uuid.uuid4())
    prefix = f"SECRET_WRITEBACK_KEY_{tenant.upper().replace('-', '_')}"
    current, upcoming = new_private_key_pem(), new_private_key_pem()
    store = {prefix: current, f"{prefix}_NEXT": upcoming}
    keys = SigningKeys(EnvSecretStore(store))
    keys.ensure(other)
    published = [k["kid"] for k in keys.jwks(tenant)["keys"]]
    signing = keys.current(tenant).kid
    assert len(published) == 2 and published[0] == signing
    # The rollover: the next key signs, the old one stays published as the previous.
    store.update({prefix: upcoming, f"{prefix}_PREVIOUS": current})
    del store[f"{prefix}_NEXT"]
    assert keys.current(tenant).kid == published[1]
    assert [k["kid"] for k in keys.jwks(tenant)["keys"]] == [published[1], published[0]]
    assert not set(published) & {k["kid"] for k in keys.jwks(other)["keys"]}  # the other organisation untouched
