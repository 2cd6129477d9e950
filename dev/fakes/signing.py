"""Signing keys generated at start (never stored), with their public JWKS, for the dev issuers and the sandbox
EHR's profiles: any of the algorithms EHRs sign id_tokens with, published in the shapes EHRs publish them."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

if TYPE_CHECKING:
    from cryptography import x509

CURVES: dict[str, ec.EllipticCurve] = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1()}


class SigningKey:
    """`alg`: RS256, RS384, RS512, ES256 or ES384. `send_kid`: whether tokens name the key (a one-key issuer
    need not). `describe`: whether the JWK carries `use` and `alg` (both optional). `x5c_only`: the JWK gives
    the key only as a self-signed certificate."""

    def __init__(
        self, alg: str = "RS256", *, send_kid: bool = True, describe: bool = True, x5c_only: bool = False
    ) -> None:
        self.alg = alg
        self.kid = uuid.uuid4().hex[:16]
        self.send_kid = send_kid
        self.describe = describe
        self.x5c_only = x5c_only
        self._key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = (
            ec.generate_private_key(CURVES[alg]) if alg.startswith("ES") else rsa.generate_private_key(65537, 2048)
        )

    def jwk(self) -> dict[str, Any]:
        public = self._key.public_key()
        if self.x5c_only:
            jwk: dict[str, Any] = {"kty": "EC" if self.alg.startswith("ES") else "RSA", "x5c": [self._certificate()]}
        elif isinstance(public, rsa.RSAPublicKey):
            jwk = jwt.algorithms.RSAAlgorithm.to_jwk(public, as_dict=True)
        else:
            jwk = jwt.algorithms.ECAlgorithm.to_jwk(public, as_dict=True)
        jwk["kid"] = self.kid
        if self.describe:
            jwk.update({"use": "sig", "alg": self.alg})
        return jwk

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.jwk()]}

    def _certificate(self) -> str:
        from cryptography.hazmat.primitives import serialization

        certificate = self_signed(self._key, "Sandbox EHR id_token signing")
        return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()

    def sign(self, claims: dict[str, Any], **headers: Any) -> str:
        header: dict[str, Any] = {"typ": "JWT", **({"kid": self.kid} if self.send_kid else {}), **headers}
        return jwt.encode(claims, self._key, algorithm=self.alg, headers=header)


def self_signed(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    common_name: str,
    *,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> x509.Certificate:
    """A certificate for `key`, issued by itself, valid from yesterday for a year unless told otherwise (the
    sandbox's keys, the tests' HL7 signing certificates)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - timedelta(days=1))
        .not_valid_after(not_after or now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )


def new_private_key_pem(bits: int = 2048) -> str:
    """A fresh RSA private key as unencrypted PKCS#8 PEM (for this run's secrets; never written to disk)."""
    from cryptography.hazmat.primitives import serialization

    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
