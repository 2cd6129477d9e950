"""Verifying RS256 JWTs against an issuer's published keys (JWKS), for portal access tokens and SMART id_tokens.

Keys are cached per JWKS URL and fetched again when a token names a key ID we have not seen (key rotation),
at most once per minute per URL so that forged `kid`s cannot make us hammer the issuer. Time checks use the
injected clock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.core.clock import Clock
from shared.core.errors import Unauthenticated, UpstreamError
from shared.core.outbound import Outbound

ALGORITHMS = ("RS256",)


LEEWAY = timedelta(minutes=2)


_REFETCH_INTERVAL = timedelta(minutes=1)
FAILURE_TTL = timedelta(seconds=60)


@dataclass
class _KeySet:
    keys: dict[str, Any]
    fetched_at: datetime


class JwksCache:
    """Key sets and discovery documents by URL: at most `max_entries` of each (the oldest go first), and a
    failed fetch is remembered for `FAILURE_TTL`, so that tokens naming unreachable issuers cost one fetch."""

    def __init__(self, outbound: Outbound, clock: Clock, ttl: timedelta, max_entries: int = 1000) -> None:
        self._outbound = outbound
        self._clock = clock
        self._ttl = ttl
        self._max = max_entries
        self._lock = threading.Lock()
        self._sets: dict[str, _KeySet] = {}
        self._documents: dict[str, tuple[dict[str, Any], datetime]] = {}
        self._failures: dict[str, tuple[UpstreamError, datetime]] = {}

    @property
    def size(self) -> int:
        with self._lock:
            return max(len(self._sets), len(self._documents), len(self._failures))

    def _remember(self, cache: dict[str, Any], url: str, value: Any) -> None:
        with self._lock:
            cache.pop(url, None)
            while len(cache) >= self._max:
                cache.pop(next(iter(cache)))
            cache[url] = value

    def _get_json(self, url: str) -> tuple[int, Any]:
        now = self._clock.now()
        with self._lock:
            failed = self._failures.get(url)
        if failed is not None and now - failed[1] < FAILURE_TTL:
            raise failed[0]
        try:
            status, body = self._outbound.get_json(url)
            if status != 200:
                raise UpstreamError(f"{url} answered HTTP {status}.")
        except UpstreamError as failure:
            self._remember(self._failures, url, (failure, now))
            raise
        return status, body

    def _fetch(self, jwks_uri: str) -> _KeySet:
        import jwt

        status, body = self._get_json(jwks_uri)
        if status != 200 or not isinstance(body, dict) or not isinstance(body.get("keys"), list):
            raise UpstreamError(f"The signing keys at {jwks_uri} could not be read (HTTP {status}).")
        keys: dict[str, Any] = {}
        for jwk in body["keys"]:
            if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or jwk.get("use", "sig") != "sig":
                continue
            try:
                keys[str(jwk.get("kid", ""))] = jwt.PyJWK(jwk, algorithm="RS256").key
            except jwt.PyJWKError:
                continue
        return _KeySet(keys, self._clock.now())

    def key(self, jwks_uri: str, kid: str) -> Any:
        now = self._clock.now()
        with self._lock:
            cached = self._sets.get(jwks_uri)
        fresh = cached is not None and now - cached.fetched_at < self._ttl
        if cached is not None and fresh and kid in cached.keys:
            return cached.keys[kid]
        if cached is None or not fresh or now - cached.fetched_at >= _REFETCH_INTERVAL:
            cached = self._fetch(jwks_uri)
            self._remember(self._sets, jwks_uri, cached)
        if kid not in cached.keys:
            raise Unauthenticated("The token was signed with a key the issuer does not publish.")
        return cached.keys[kid]

    def document(self, url: str) -> dict[str, Any]:
        """A cached JSON discovery document (e.g. openid-configuration)."""
        now = self._clock.now()
        with self._lock:
            cached = self._documents.get(url)
        if cached and now - cached[1] < self._ttl:
            return cached[0]
        status, body = self._get_json(url)
        if not isinstance(body, dict):
            raise UpstreamError(f"{url} did not return a discovery document.")
        self._remember(self._documents, url, (body, now))
        return body


def unverified_claims(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, claims) without checking anything: only to decide which issuer's keys to use."""
    import jwt

    try:
        return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise Unauthenticated("The token is not a well-formed JWT.") from None


def verify(
    token: str,
    *,
    jwks: JwksCache,
    jwks_uri: str,
    issuer: str,
    audience: str | Iterable[str],
    clock: Clock,
    required: Iterable[str] = (),
) -> dict[str, Any]:
    """The claims of a token whose signature, issuer, audience and lifetime all check out."""
    import jwt

    header, _ = unverified_claims(token)
    if header.get("alg") not in ALGORITHMS:
        raise Unauthenticated(f"Tokens signed with {header.get('alg')} are not accepted.")
    key = jwks.key(jwks_uri, str(header.get("kid", "")))
    audiences = [audience] if isinstance(audience, str) else list(audience)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=list(ALGORITHMS),
            audience=audiences,
            issuer=issuer,
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "require": ["exp", "iss", "aud"]},
        )
    except jwt.InvalidAudienceError:
        raise Unauthenticated("The token was issued for another application.") from None
    except jwt.InvalidIssuerError:
        raise Unauthenticated("The token comes from an issuer we do not trust.") from None
    except jwt.PyJWTError as exc:
        raise Unauthenticated(f"The token is not valid ({type(exc).__name__}).") from None
    now = clock.now().timestamp()
    if now > float(claims["exp"]) + LEEWAY.total_seconds():
        raise Unauthenticated("The token has expired; sign in again.")
    if "nbf" in claims and now < float(claims["nbf"]) - LEEWAY.total_seconds():
        raise Unauthenticated("The token is not valid yet; check the clock of the signing server.")
    missing = [name for name in required if not claims.get(name)]
    if missing:
        raise Unauthenticated(f"The token lacks the claims {', '.join(missing)}.")
    return claims
