"""The patient's phone number inside a queued appointment change, sealed (AES-256-GCM, bound to the appointment
key), so that a queue or poison queue holds no readable number. The key is derived (HKDF-SHA256) from the
opt-out key, which is never rotated, so a change queued before a restart still opens after it."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from shared.core.errors import InvalidInput
from shared.messaging.texts import OPT_OUT_KEY_SECRET
from shared.secrets import SecretStore

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

INFO = b"ehr-connector appointment change phone v1"


@dataclass(eq=False)
class PhoneSeal:
    secrets: SecretStore

    @cached_property
    def _cipher(self) -> AESGCM:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        secret = self.secrets.get(OPT_OUT_KEY_SECRET).encode()
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(secret)
        return AESGCM(key)

    def seal(self, phone: str, appointment_key: str) -> str:
        nonce = os.urandom(12)
        sealed = self._cipher.encrypt(nonce, phone.encode(), appointment_key.encode())
        return base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, sealed: str, appointment_key: str) -> str:
        from cryptography.exceptions import InvalidTag

        raw = base64.urlsafe_b64decode(sealed.encode())
        try:
            return str(self._cipher.decrypt(raw[:12], raw[12:], appointment_key.encode()).decode())
        except InvalidTag:
            raise InvalidInput("The queued phone number does not open with this deployment's key.") from None
