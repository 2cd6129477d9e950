"""SMART backend services: each organisation's signing keys, their JWKS, and access tokens for EHR writeback.

Every organisation has keys of its own and a JWKS URL of its own, which its EHR registers for its backend
client: an assertion signed for one organisation's client cannot be verified with another's JWKS, so no
organisation can obtain tokens for another's client. Keys are RSA private keys (PEM, 2048 bits or more) in the
secret store under three names per organisation (tenant ID `T`):

- `writeback-key-T` signs the organisation's client assertions (created when its writeback is first set up);
- `writeback-key-T-next` is published but not used yet: add the new key here first, wait until the EHR has
  fetched the JWKS again (Epic caches it for up to 29 hours), then make it `writeback-key-T`;
- `writeback-key-T-previous` stays published for a while after a rotation, for assertions signed just before.

The `kid` is the RFC 7638 thumbprint of the public key, so it never needs to be configured. Client assertions
are RS384 JWTs (`iss` = `sub` = client ID, `aud` = token URL, a unique `jti`, 5 minutes at most, `jku` = the
organisation's JWKS URL); tokens are cached per organisation, reused until shortly before they expire and
dropped when the EHR answers 401.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared.auth.tokens import TENANT_ID
from shared.core.clock import Clock
from shared.core.encoding import b64url
from shared.core.errors import InvalidInput, NotFound, Unauthenticated, UpstreamError
from shared.core.jwt_verify import MIN_RSA_BITS
from shared.core.outbound import Outbound
from shared.secrets import SecretStore, check_secret_name

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

PREFIX = "writeback-key"
ASSERTION_LIFETIME = timedelta(minutes=4)
EXPIRY_MARGIN = timedelta(seconds=60)


def _b64_int(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: RSAPrivateKey
    jwk: dict[str, str]

    @classmethod
    def from_pem(cls, pem: str) -> SigningKey:
        from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        try:
            key = load_pem_private_key(pem.encode(), password=None)
        except (ValueError, TypeError):
            raise UpstreamError("A writeback signing key in the secret store is not an unencrypted PEM key.") from None
        if not isinstance(key, RSAPrivateKey) or key.key_size < MIN_RSA_BITS:
            raise UpstreamError(f"Writeback signing keys are RSA keys of {MIN_RSA_BITS} bits or more.")
        numbers = key.public_key().public_numbers()
        members = {"e": _b64_int(numbers.e), "kty": "RSA", "n": _b64_int(numbers.n)}
        canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
        kid = b64url(hashlib.sha256(canonical).digest())
        jwk = {**members, "kid": kid, "alg": "RS384", "use": "sig"}
        return cls(kid, key, jwk)


def key_names(tenant_id: str) -> tuple[str, str, str]:
    """The organisation's current, next and previous key names (`check_secret_name` refuses odd tenant IDs)."""
    current = check_secret_name(f"{PREFIX}-{tenant_id}")
    return current, f"{current}-next", f"{current}-previous"


def new_private_key_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=MIN_RSA_BITS)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


class SigningKeys:
    """Each organisation's signing keys, read through the (caching) secret store, so a rotation is picked up
    without a restart."""

    def __init__(self, secrets: SecretStore) -> None:
        self._secrets = secrets
        self._lock = threading.Lock()
        self._parsed: dict[str, SigningKey] = {}

    def _key(self, name: str) -> SigningKey | None:
        try:
            pem = self._secrets.get(name)
        except NotFound:
            return None
        with self._lock:
            key = self._parsed.get(pem)
            if key is None:
                key = self._parsed[pem] = SigningKey.from_pem(pem)
            return key

    def current(self, tenant_id: str) -> SigningKey:
        name = key_names(tenant_id)[0]
        key = self._key(name)
        if key is None:
            raise UpstreamError(f"The secret store has no {name}; save the endpoint's writeback settings to create it.")
        return key

    def ensure(self, tenant_id: str) -> SigningKey:
        """The organisation's current key, created (and stored) when it has none yet."""
        name = key_names(tenant_id)[0]
        key = self._key(name)
        if key is None:
            self._secrets.set(name, new_private_key_pem())
            key = self.current(tenant_id)
        return key

    def jwks(self, tenant_id: str) -> dict[str, list[dict[str, str]]]:
        """The organisation's published keys: the current one first, then the next and the previous. Only an Entra
        ID tenant ID is looked up (the secret store remembers a missing key for a minute)."""
        if not TENANT_ID.match(tenant_id):
            raise InvalidInput("Ask for an organisation's keys by its Entra ID tenant ID (a GUID in lowercase).")
        keys: list[dict[str, str]] = []
        for name in key_names(tenant_id):
            key = self._key(name)
            if key is not None and all(k["kid"] != key.kid for k in keys):
                keys.append(key.jwk)
        return {"keys": keys}


@dataclass
class _Token:
    value: str
    expires_at: datetime


class BackendServices:
    """Access tokens by client credentials with a signed client assertion, cached per (organisation, token URL,
    client, scope)."""

    def __init__(self, outbound: Outbound, keys: SigningKeys, clock: Clock, jwks_base: str) -> None:
        self._outbound = outbound
        self._keys = keys
        self._clock = clock
        self._jwks_base = jwks_base.rstrip("/")
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str, str, str], _Token] = {}
        self._fetching: dict[tuple[str, str, str, str], threading.Lock] = {}

    def jwks_url(self, tenant_id: str) -> str:
        """The organisation's JWKS URL, which its EHR registers for its backend client."""
        return f"{self._jwks_base}/{tenant_id}"

    def assertion(self, tenant_id: str, token_url: str, client_id: str) -> str:
        import jwt

        key = self._keys.current(tenant_id)
        now = self._clock.now()
        claims = {
            "iss": client_id,
            "sub": client_id,
            "aud": token_url,
            "jti": uuid.uuid4().hex,
            "iat": int(now.timestamp()),
            "exp": int((now + ASSERTION_LIFETIME).timestamp()),
        }
        headers = {"kid": key.kid, "typ": "JWT", "jku": self.jwks_url(tenant_id)}
        return jwt.encode(claims, key.private_key, algorithm="RS384", headers=headers)

    def token(self, tenant_id: str, token_url: str, client_id: str, scope: str) -> str:
        cache_key = (tenant_id, token_url, client_id, scope)
        with self._lock:
            cached = self._tokens.get(cache_key)
            if cached is not None and self._clock.now() < cached.expires_at - EXPIRY_MARGIN:
                return cached.value
            fetching = self._fetching.setdefault(cache_key, threading.Lock())
        with fetching:  # a batch's first calls (run in parallel) wait for one token rather than each asking
            with self._lock:
                cached = self._tokens.get(cache_key)
                if cached is not None and self._clock.now() < cached.expires_at - EXPIRY_MARGIN:
                    return cached.value
            token = self._request(tenant_id, token_url, client_id, scope)
            with self._lock:
                self._tokens[cache_key] = token
        return token.value

    def forget(self, tenant_id: str, token_url: str, client_id: str, scope: str) -> None:
        """The EHR refused the token (401): the next call asks for a new one."""
        with self._lock:
            self._tokens.pop((tenant_id, token_url, client_id, scope), None)

    def _request(self, tenant_id: str, token_url: str, client_id: str, scope: str) -> _Token:

        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": self.assertion(tenant_id, token_url, client_id),
        }
        if scope:  # Epic's web services need none
            form["scope"] = scope
        response = self._outbound.request("POST", token_url, data=form, headers={"Accept": "application/json"})
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        if response.status_code in (400, 401) and isinstance(body, dict):
            raise Unauthenticated(
                f"The EHR refused the connector's backend sign-in ({body.get('error', 'error')}: "
                f"{str(body.get('error_description', ''))[:200]})."
            )
        if response.status_code != 200 or not isinstance(body, dict) or not body.get("access_token"):
            raise UpstreamError(f"The EHR's token endpoint answered HTTP {response.status_code}.")
        lifetime = body.get("expires_in")
        seconds = lifetime if isinstance(lifetime, int) and lifetime > 0 else 300
        return _Token(str(body["access_token"]), self._clock.now() + timedelta(seconds=seconds))
