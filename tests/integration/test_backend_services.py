"""SMART backend services for EHR writeback: the connector publishes its JWKS, signs RS384 client assertions the
sandbox EHR verifies against that JWKS, reuses tokens until shortly before expiry, and rotates keys safely."""

from __future__ import annotations

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
from tests.conftest import AppHost, writeback_key
from tests.support.clock import FakeClock

CLIENT = "connector-writeback"
SCOPE = "system/Appointment.write system/AuditEvent.write"


@pytest.fixture
def registered(app: AppHost, sandbox: SandboxEhr) -> str:
    jwks_url = f"{app.server.url}/api/.well-known/jwks.json"
    sandbox.register_backend_client(CLIENT, jwks_url)
    return jwks_url


def test_the_jwks_is_published_with_a_thumbprint_kid(app: AppHost, registered: str) -> None:
    answer = httpx.get(registered)
    assert answer.status_code == 200 and "max-age" in answer.headers["Cache-Control"]
    (key,) = answer.json()["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS384" and key["use"] == "sig" and "d" not in key
    assert key["kid"] == SigningKeys(EnvSecretStore({"SECRET_WRITEBACK_KEY": writeback_key()})).current().kid


def test_a_token_is_issued_reused_and_renewed_after_a_401(sandbox: SandboxEhr, registered: str) -> None:
    backend = get_runtime().writeback.backend_services
    token_url = f"{sandbox.url}/oauth2/token"
    token = backend.token(token_url, CLIENT, SCOPE)
    assert sandbox.backend_tokens[token] == CLIENT
    before = sandbox.token_requests
    assert backend.token(token_url, CLIENT, SCOPE) == token  # cached: no second request
    assert sandbox.token_requests == before
    backend.forget(token_url, CLIENT, SCOPE)  # the EHR answered 401
    renewed = backend.token(token_url, CLIENT, SCOPE)
    assert renewed != token and sandbox.token_requests == before + 1


def test_a_token_is_renewed_shortly_before_it_expires(sandbox: SandboxEhr, registered: str) -> None:
    runtime = get_runtime()
    clock = FakeClock(datetime.now(UTC) - timedelta(seconds=50))  # behind, so that no assertion is post-dated
    backend = BackendServices(runtime.platform.outbound, runtime.writeback.signing_keys, clock, registered)
    token_url = f"{sandbox.url}/oauth2/token"
    sandbox.backend_token_lifetime = 100
    try:
        first = backend.token(token_url, CLIENT, SCOPE)
        clock.advance(seconds=30)  # 70 seconds left
        assert backend.token(token_url, CLIENT, SCOPE) == first
        clock.advance(seconds=15)  # 55 seconds left: within the minute before expiry
        assert backend.token(token_url, CLIENT, SCOPE) != first
    finally:
        sandbox.backend_token_lifetime = 300


def test_the_assertion_is_what_backend_services_require(sandbox: SandboxEhr, registered: str) -> None:
    token_url = f"{sandbox.url}/oauth2/token"
    assertion = get_runtime().writeback.backend_services.assertion(token_url, CLIENT)
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


def test_unknown_clients_and_unpublished_keys_are_refused(sandbox: SandboxEhr, registered: str) -> None:
    runtime = get_runtime()
    token_url = f"{sandbox.url}/oauth2/token"
    with pytest.raises(Unauthenticated, match="unknown client"):
        runtime.writeback.backend_services.token(token_url, "someone-else", SCOPE)
    stranger = SigningKeys(EnvSecretStore({"SECRET_WRITEBACK_KEY": new_private_key_pem()}))
    rogue = BackendServices(runtime.platform.outbound, stranger, FakeClock(datetime.now(UTC)), registered)
    with pytest.raises(Unauthenticated, match="kid"):
        rogue.token(token_url, CLIENT, SCOPE)


def test_rotation_publishes_the_next_and_previous_keys() -> None:
    current, upcoming = writeback_key(), new_private_key_pem()
    store = {"SECRET_WRITEBACK_KEY": current, "SECRET_WRITEBACK_KEY_NEXT": upcoming}
    keys = SigningKeys(EnvSecretStore(store))
    published = [k["kid"] for k in keys.jwks()["keys"]]
    signing = keys.current().kid
    assert len(published) == 2 and published[0] == signing
    # The rollover: the next key signs, the old one stays published as the previous.
    store.update({"SECRET_WRITEBACK_KEY": upcoming, "SECRET_WRITEBACK_KEY_PREVIOUS": current})
    del store["SECRET_WRITEBACK_KEY_NEXT"]
    assert keys.current().kid == published[1]
    assert [k["kid"] for k in keys.jwks()["keys"]] == [published[1], published[0]]
