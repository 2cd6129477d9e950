"""Verifying signed JWTs against an issuer's published keys (JWKS), for portal access tokens and SMART id_tokens.

What the specifications allow, we accept; what they forbid, we refuse:
- Algorithms (RFC 7518, chosen by the issuer): RS256, RS384, RS512, ES256 and ES384. `none` and the HMAC
  algorithms are refused: an HMAC "signature" keyed with a public key proves nothing.
- Keys (RFC 7517): RSA (2048 bits or more) and EC (P-256, P-384) keys, with or without `use` and `alg`; a key
  whose `use` is not `sig`, whose `key_ops` exclude `verify` or whose `alg` is another algorithm's is not used for
  signatures. A key given only as an X.509 chain (`x5c`) is the first certificate's public key.
- `kid` (OpenID Connect Core 10.1): needed only when the issuer publishes several keys. A token without one is
  verified with the one published key that suits its algorithm; with several candidates it is refused.
- `iss` is compared exactly, as the caller states it (the discovery document's `issuer`).

Keys are cached per JWKS URL and fetched again when a token names a key ID we have not seen (key rotation),
at most once per minute per URL so that forged `kid`s cannot make us hammer the issuer. Time checks use the
injected clock.
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.core.clock import Clock
from shared.core.errors import Unauthenticated, UpstreamError
from shared.core.outbound import Outbound

# algorithm -> (key type, curve)
ALGORITHMS: dict[str, tuple[str, str | None]] = {
    "RS256": ("RSA", None),
    "RS384": ("RSA", None),
    "RS512": ("RSA", None),
    "ES256": ("EC", "P-256"),
    "ES384": ("EC", "P-384"),
}
MIN_RSA_BITS = 2048
"""The smallest RSA key the connector trusts or makes (RFC 7518 3.3; NIST SP 800-131A)."""
_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384"}


LEEWAY = timedelta(minutes=2)


_REFETCH_INTERVAL = timedelta(minutes=1)
FAILURE_TTL = timedelta(seconds=60)


@dataclass(frozen=True)
class PublicKey:
    """One usable signature key of a JWKS."""

    kid: str | None
    alg: str | None
    kty: str
    crv: str | None
    key: Any

    def suits(self, alg: str) -> bool:
        kty, crv = ALGORITHMS[alg]
        return self.kty == kty and (crv is None or self.crv == crv) and self.alg in (None, alg)


def _from_x5c(chain: Any) -> Any:
    from cryptography import x509

    if not isinstance(chain, list) or not chain or not isinstance(chain[0], str):
        raise ValueError("no certificate")
    try:
        der = base64.b64decode(chain[0], validate=True)  # x5c is standard base64, not base64url (RFC 7517 4.7)
    except binascii.Error:
        raise ValueError("x5c is not base64") from None
    return x509.load_der_x509_certificate(der).public_key()


def public_key(jwk: Any) -> PublicKey | None:
    """A JWK as a signature key, or None when it is not one we may use (wrong use, type, size or algorithm)."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from jwt.algorithms import ECAlgorithm, RSAAlgorithm

    if not isinstance(jwk, dict) or jwk.get("kty") not in ("RSA", "EC"):
        return None
    if jwk.get("use", "sig") != "sig":
        return None
    if "key_ops" in jwk and (not isinstance(jwk["key_ops"], list) or "verify" not in jwk["key_ops"]):
        return None
    alg = jwk.get("alg")
    if alg is not None and alg not in ALGORITHMS:
        return None
    has_material = all(name in jwk for name in (("n", "e") if jwk["kty"] == "RSA" else ("crv", "x", "y")))
    try:
        if has_material:
            key = (RSAAlgorithm if jwk["kty"] == "RSA" else ECAlgorithm).from_jwk(jwk)
        elif "x5c" in jwk:
            key = _from_x5c(jwk["x5c"])
        else:
            return None
    except Exception:  # a malformed key (bad base64, unknown curve, bad certificate) is skipped, not fatal
        return None
    if isinstance(key, rsa.RSAPublicKey) and jwk["kty"] == "RSA":
        if key.key_size < MIN_RSA_BITS:
            return None
        crv = None
    elif isinstance(key, ec.EllipticCurvePublicKey) and jwk["kty"] == "EC":
        crv = _CURVES.get(key.curve.name)
        if crv is None:
            return None
    else:  # a private key given as a public one, or an x5c certificate of another key type
        return None
    kid = jwk.get("kid")
    return PublicKey(str(kid) if kid is not None else None, alg, jwk["kty"], crv, key)


@dataclass
class _KeySet:
    keys: list[PublicKey]
    fetched_at: datetime

    def find(self, kid: str | None, alg: str) -> list[PublicKey]:
        suitable = [key for key in self.keys if key.suits(alg)]
        if kid is not None:
            return [key for key in suitable if key.kid == kid]
        return suitable


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
        status, body = self._get_json(jwks_uri)
        if status != 200 or not isinstance(body, dict) or not isinstance(body.get("keys"), list):
            raise UpstreamError(f"The signing keys at {jwks_uri} could not be read (HTTP {status}).")
        return _KeySet([key for jwk in body["keys"] if (key := public_key(jwk)) is not None], self._clock.now())

    def key(self, jwks_uri: str, kid: str | None, alg: str) -> PublicKey:
        """The key that verifies a token with this header: by `kid`, or the only suitable key when there is none.
        A `kid` we do not know, or no suitable key, refetches the set (at most once a minute)."""
        now = self._clock.now()
        with self._lock:
            cached = self._sets.get(jwks_uri)
        fresh = cached is not None and now - cached.fetched_at < self._ttl
        found = cached.find(kid, alg) if cached is not None and fresh else []
        if not found and (cached is None or not fresh or now - cached.fetched_at >= _REFETCH_INTERVAL):
            cached = self._fetch(jwks_uri)
            self._remember(self._sets, jwks_uri, cached)
            found = cached.find(kid, alg)
        if not found:
            raise Unauthenticated(f"The token was signed with a key the issuer does not publish for {alg}.")
        if len(found) > 1:
            raise Unauthenticated("The token names no key (kid) and the issuer publishes several for its algorithm.")
        return found[0]

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
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ALGORITHMS:
        raise Unauthenticated(
            f"Tokens signed with {alg!s:.20} are not accepted (only {', '.join(ALGORITHMS)} signatures)."
        )
    kid = header.get("kid")
    key = jwks.key(jwks_uri, str(kid) if kid is not None else None, alg).key
    audiences = [audience] if isinstance(audience, str) else list(audience)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[alg],
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
