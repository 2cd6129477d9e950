"""Signing keys and certificates made at test time (no keys live in the repository)."""

from __future__ import annotations

import base64
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from dev.fakes.signing import self_signed


def rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def certificate(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    *,
    name: str = "EPIC HL7 signing",
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> x509.Certificate:
    return self_signed(key, name, not_before=not_before, not_after=not_after)


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def sign(key: rsa.RSAPrivateKey, body: bytes) -> str:
    """The HL7-Signature header value for `body`."""
    signature = key.sign(body, padding.PKCS1v15(), hashes.SHA512())
    return "SHA512withRSA " + base64.b64encode(signature).decode()
