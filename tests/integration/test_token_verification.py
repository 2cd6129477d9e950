"""Signed tokens as the specifications allow issuers to make them (JWS RFC 7515, JWK RFC 7517, JWA RFC 7518,
OpenID Connect Core 10.1), verified against a JWKS served over loopback HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web

from dev.fakes.signing import SigningKey
from dev.host.serving import ServerThread
from shared.core.errors import Unauthenticated
from shared.core.jwt_verify import JwksCache, verify
from shared.core.outbound import Outbound
from tests.support.clock import FakeClock

AUDIENCE = "connector-client"
ISSUER = "https://ehr.example/fhir"


@dataclass
class Issuer:
    """A JWKS endpoint whose published keys the test changes (rotation), counting fetches."""

    keys: list[dict[str, Any]] = field(default_factory=list)
    fetches: int = 0
    url: str = ""

    def application(self) -> web.Application:
        async def jwks(request: web.Request) -> web.Response:
            self.fetches += 1
            return web.json_response({"keys": self.keys})

        app = web.Application()
        app.router.add_get("/jwks", jwks)
        return app

    @property
    def jwks_uri(self) -> str:
        return f"{self.url}/jwks"


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    published = Issuer()
    with ServerThread(published.application()) as server:
        published.url = server.url
        yield published


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": ISSUER, "sub": "E1001", "aud": AUDIENCE, "iat": now, "exp": now + 300, **overrides}


def check(token: str, issuer: Issuer, clock: FakeClock, cache: JwksCache | None = None) -> dict[str, Any]:
    cache = cache or JwksCache(Outbound(5, allow_private=True), clock, timedelta(hours=1))
    return verify(token, jwks=cache, jwks_uri=issuer.jwks_uri, issuer=ISSUER, audience=AUDIENCE, clock=clock)


KEY_SHAPES = {
    "kid and use/alg": {},
    "no kid (one-key JWKS)": {"send_kid": False},
    "no use or alg in the JWK": {"describe": False},
    "no kid, no use or alg": {"send_kid": False, "describe": False},
    "x5c only": {"x5c_only": True},
    "x5c only, no kid": {"x5c_only": True, "send_kid": False, "describe": False},
}


@pytest.mark.parametrize("shape", KEY_SHAPES)
@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512", "ES256", "ES384"])
def test_every_algorithm_and_key_shape_the_specs_allow_is_accepted(
    issuer: Issuer, clock: FakeClock, alg: str, shape: str
) -> None:
    key = SigningKey(alg, **KEY_SHAPES[shape])
    issuer.keys = [key.jwk()]
    assert check(key.sign(claims()), issuer, clock)["sub"] == "E1001"


def _unsigned(header: dict[str, Any], body: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(body)}"


def test_unsigned_tokens_are_refused(issuer: Issuer, clock: FakeClock) -> None:
    key = SigningKey()
    issuer.keys = [key.jwk()]
    with pytest.raises(Unauthenticated, match="none are not accepted"):
        check(_unsigned({"alg": "none", "typ": "JWT"}, claims()) + ".", issuer, clock)
    assert issuer.fetches == 0  # refused before any fetch


def test_hmac_keyed_with_the_public_key_is_refused(issuer: Issuer, clock: FakeClock) -> None:
    """The classic algorithm confusion: an HS256 'signature' whose secret is the issuer's public JWK."""
    key = SigningKey()
    issuer.keys = [key.jwk()]
    signing_input = _unsigned({"alg": "HS256", "typ": "JWT", "kid": key.kid}, claims(sub="attacker"))
    secret = json.dumps(key.jwk()).encode()
    mac = base64.urlsafe_b64encode(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()).rstrip(b"=")
    with pytest.raises(Unauthenticated, match="HS256 are not accepted"):
        check(f"{signing_input}.{mac.decode()}", issuer, clock)


def test_a_token_without_kid_is_refused_when_several_keys_suit_it(issuer: Issuer, clock: FakeClock) -> None:
    first, second = SigningKey(send_kid=False), SigningKey(send_kid=False)
    issuer.keys = [first.jwk(), second.jwk()]
    with pytest.raises(Unauthenticated, match="several"):
        check(first.sign(claims()), issuer, clock)


def test_without_kid_the_one_key_of_the_tokens_algorithm_is_used(issuer: Issuer, clock: FakeClock) -> None:
    rsa_key, ec_key = SigningKey("RS256", send_kid=False), SigningKey("ES256", send_kid=False)
    issuer.keys = [rsa_key.jwk(), ec_key.jwk()]
    assert check(ec_key.sign(claims()), issuer, clock)["sub"] == "E1001"
    assert check(rsa_key.sign(claims()), issuer, clock)["sub"] == "E1001"


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"use": "enc"}, "an encryption key"),
        ({"key_ops": ["encrypt"]}, "key_ops without verify"),
        ({"alg": "RS512"}, "published for another algorithm"),
        ({"kty": "oct", "k": "c2VjcmV0"}, "a symmetric key"),
    ],
)
def test_keys_not_meant_for_the_signature_are_not_used(
    issuer: Issuer, clock: FakeClock, change: dict[str, Any], why: str
) -> None:
    key = SigningKey("RS256")
    issuer.keys = [{**key.jwk(), **change}]
    with pytest.raises(Unauthenticated, match="does not publish"):
        check(key.sign(claims()), issuer, clock)


def test_an_es256_token_is_not_verified_with_a_p384_key(issuer: Issuer, clock: FakeClock) -> None:
    p384 = SigningKey("ES384")
    issuer.keys = [{**p384.jwk(), "alg": "ES256"}]
    token = SigningKey("ES256").sign(claims())
    with pytest.raises(Unauthenticated, match="does not publish"):
        check(token, issuer, clock)


def test_a_rotated_key_is_fetched_once_and_forged_kids_are_rate_limited(issuer: Issuer, clock: FakeClock) -> None:
    old, new = SigningKey("ES384"), SigningKey("ES384")
    issuer.keys = [old.jwk()]
    cache = JwksCache(Outbound(5, allow_private=True), clock, timedelta(hours=1))
    check(old.sign(claims()), issuer, clock, cache)
    clock.advance(minutes=5)
    issuer.keys = [old.jwk(), new.jwk()]  # the issuer adds its next key, then signs with it
    assert check(new.sign(claims()), issuer, clock, cache)["sub"] == "E1001"
    assert issuer.fetches == 2
    forged = SigningKey("ES384")
    for _ in range(5):
        with pytest.raises(Unauthenticated, match="does not publish"):
            check(forged.sign(claims()), issuer, clock, cache)
    assert issuer.fetches == 2  # fetched a moment ago: unknown kids do not make us fetch again
    clock.advance(minutes=2)
    with pytest.raises(Unauthenticated, match="does not publish"):
        check(forged.sign(claims()), issuer, clock, cache)
    assert issuer.fetches == 3


@pytest.mark.parametrize("iss", [ISSUER + "/", ISSUER.upper(), "https://ehr.example/FHIR", "https://ehr.example"])
def test_the_issuer_is_compared_exactly(issuer: Issuer, clock: FakeClock, iss: str) -> None:
    key = SigningKey()
    issuer.keys = [key.jwk()]
    with pytest.raises(Unauthenticated, match="issuer we do not trust"):
        check(key.sign(claims(iss=iss)), issuer, clock)


@pytest.mark.filterwarnings("ignore:The RSA key is 1024 bits")
def test_small_rsa_keys_are_not_used(issuer: Issuer, clock: FakeClock) -> None:
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    small = rsa.generate_private_key(65537, 1024)
    issuer.keys = [jwt.algorithms.RSAAlgorithm.to_jwk(small.public_key(), as_dict=True)]
    with pytest.raises(Unauthenticated, match="does not publish"):
        check(jwt.encode(claims(), small, algorithm="RS256"), issuer, clock)
