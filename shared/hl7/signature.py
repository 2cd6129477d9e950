"""The EHR signs each HL7 message: `HL7-Signature: SHA512withRSA <base64 signature over the raw body bytes>`,
verified with the public key of the certificate uploaded for the endpoint's environment."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shared.core.errors import Unprocessable
from shared.core.jwt_verify import MIN_RSA_BITS
from shared.hl7 import Hl7Rejected

if TYPE_CHECKING:
    pass

ALGORITHM = "SHA512withRSA"


@dataclass(frozen=True)
class CertificateInfo:
    der: bytes
    thumbprint: str  # SHA-1 of the DER, upper-case hex, as Windows and Azure show it
    subject: str
    not_after: datetime


def load_certificate(upload: bytes, now: datetime) -> CertificateInfo:
    """A public-key certificate from a `.cer` upload (PEM, DER, or Base64 DER text), or InvalidInput saying why
    it cannot be used: a private key, not a certificate, not RSA, under 2048 bits, or expired."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa

    def refuse(reason: str) -> Unprocessable:
        return Unprocessable(f"The certificate cannot be used: {reason}.", {"certificate": reason})

    if b"PRIVATE KEY" in upload:
        raise refuse("the file contains a private key; upload the public certificate (.cer) only")
    text = upload.strip()  # only the text forms: DER is binary, its last byte may be a "whitespace" byte
    try:
        if text.startswith(b"-----BEGIN CERTIFICATE-----"):
            certificate = x509.load_pem_x509_certificate(text)
        else:
            try:
                certificate = x509.load_der_x509_certificate(upload)
            except ValueError:
                certificate = x509.load_der_x509_certificate(base64.b64decode(text, validate=False))
    except (ValueError, binascii.Error):
        raise refuse("it is not an X.509 certificate in PEM, DER or Base64 form") from None
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise refuse("its key is not RSA (SHA512withRSA needs an RSA key)")
    if key.key_size < MIN_RSA_BITS:
        raise refuse(f"its RSA key has {key.key_size} bits; at least {MIN_RSA_BITS} are needed")
    if certificate.not_valid_after_utc <= now:
        raise refuse(f"it expired on {certificate.not_valid_after_utc.date().isoformat()}")
    from cryptography.hazmat.primitives.serialization import Encoding

    der = certificate.public_bytes(Encoding.DER)
    return CertificateInfo(
        der=der,
        thumbprint=hashlib.sha1(der).hexdigest().upper(),  # noqa: S324 - the conventional thumbprint, not security
        subject=certificate.subject.rfc4514_string(),
        not_after=certificate.not_valid_after_utc.astimezone(UTC),
    )


@functools.lru_cache(maxsize=64)
def _signing_key(certificate_der: bytes) -> tuple[datetime, Any]:
    """The certificate's expiry and RSA public key, parsed once per certificate (OpenSSL's key loading costs more
    than the signature check itself)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa

    certificate = x509.load_der_x509_certificate(certificate_der)
    key = certificate.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    return certificate.not_valid_after_utc, key


def verify_signature(body: bytes, header: str | None, certificate_der: bytes, now: datetime) -> None:
    """Nothing if `header` is a valid signature of `body` by the certificate's key; else Hl7Rejected."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    if not header:
        raise Hl7Rejected("The HL7-Signature header is missing.")
    algorithm, _, encoded = header.strip().partition(" ")
    if algorithm != ALGORITHM or not encoded.strip():
        raise Hl7Rejected(f"The HL7-Signature header must be '{ALGORITHM} <base64 signature>'.")
    try:
        signature = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise Hl7Rejected("The HL7-Signature is not valid Base64.") from None
    not_after, key = _signing_key(certificate_der)
    if not_after <= now:
        raise Hl7Rejected("The signing certificate has expired; upload the EHR's new certificate in the portal.")
    try:
        key.verify(signature, body, padding.PKCS1v15(), hashes.SHA512())
    except InvalidSignature:
        raise Hl7Rejected("The HL7-Signature does not match the message and the uploaded certificate.") from None
