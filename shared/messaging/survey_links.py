"""Survey links: `{public}/api/survey#{token}` (the token in the fragment, which browsers never send, so no request
log keeps it; the page posts it). The token names the organisation, the endpoint and the appointment key, signed
with the join-link key under a label of its own, so neither kind of token passes for the other; it never names a
patient. Compact, as texts are billed per segment: a packed form (the key's short ID, tenant GUID, endpoint ID,
appointment key, a 128-bit HMAC: 82 characters) where the identifiers have the shapes it packs, else signed JSON.
Whether it can still be used (once, and until it closes) is the survey row's to say."""

from __future__ import annotations

import binascii
import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass

from shared.core.encoding import b64url, unb64url
from shared.secrets.keyring import HmacKey, KeyRing, seal_with, unseal_with

LABEL = b"visit-survey"
_MAC_BYTES = 16
_PACKED_BYTES = 1 + 16 + 8 + 20
_HEX = re.compile(r"[0-9a-f]+")


@dataclass(frozen=True)
class SurveyClaims:
    tenant_id: str
    endpoint_id: str
    appointment_key: str


def _mac(key: HmacKey, packed: bytes) -> bytes:
    return hmac.new(key.value, LABEL + b"|" + packed, hashlib.sha256).digest()[:_MAC_BYTES]


@dataclass(kw_only=True, eq=False)
class SurveyLinks:
    keys: KeyRing
    public_base: str

    def url(self, tenant_id: str, endpoint_id: str, appointment_key: str, locale: str | None) -> str:
        # The page's language rides in the query (the server sees it: it is no secret); the token in the fragment.
        language = (locale or "en").split("_", 1)[0].lower()
        query = f"?lang={language}" if language.isalpha() and language != "en" else ""
        return f"{self.public_base.rstrip('/')}/api/survey{query}#{self.token(tenant_id, endpoint_id, appointment_key)}"

    def token(self, tenant_id: str, endpoint_id: str, appointment_key: str) -> str:
        key = self.keys.current()
        packed = _pack(key, tenant_id, endpoint_id, appointment_key)
        if packed is not None:
            return b64url(packed + _mac(key, packed))
        return seal_with(self.keys, {"t": tenant_id, "e": endpoint_id, "a": appointment_key}, label=LABEL)

    def decode(self, token: str) -> SurveyClaims | None:
        """The claims of a genuine token, else None."""
        if not token or len(token) > 1000:
            return None
        if "." in token:
            payload = unseal_with(self.keys, token, label=LABEL)
            if payload is None or not all(isinstance(payload.get(k), str) for k in ("t", "e", "a")):
                return None
            return SurveyClaims(payload["t"], payload["e"], payload["a"])
        try:
            raw = unb64url(token)
        except (binascii.Error, ValueError):
            return None
        if len(raw) != _PACKED_BYTES + _MAC_BYTES:
            return None
        packed, mac = raw[:_PACKED_BYTES], raw[_PACKED_BYTES:]
        keys = self.keys.verifying(lambda key: key.short_kid == packed[0])
        if not any(hmac.compare_digest(_mac(key, packed), mac) for key in keys):
            return None
        return SurveyClaims(str(uuid.UUID(bytes=packed[1:17])), packed[17:25].hex(), packed[25:45].hex())


def _pack(key: HmacKey, tenant_id: str, endpoint_id: str, appointment_key: str) -> bytes | None:
    try:
        tenant = uuid.UUID(tenant_id)
    except ValueError:
        return None
    if str(tenant) != tenant_id:
        return None
    for value, length in ((endpoint_id, 16), (appointment_key, 40)):
        if len(value) != length or not _HEX.fullmatch(value):
            return None
    return bytes([key.short_kid]) + tenant.bytes + bytes.fromhex(endpoint_id) + bytes.fromhex(appointment_key)
