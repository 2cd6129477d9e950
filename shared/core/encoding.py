"""Base64url without padding (RFC 4648 §5), as JWTs, PKCE and our join links use it; and small JSON tokens
sealed with an HMAC (`body.mac`), as join links and visit sessions are."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    """Raises binascii.Error (a ValueError) on text that is not base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, label: bytes, body: str) -> str:
    return b64url(hmac.new(key, label + body.encode(), hashlib.sha256).digest())


def seal(payload: dict[str, Any], key: bytes, *, label: bytes = b"") -> str:
    """`payload` as compact JSON in base64url, then `.` and its HMAC-SHA256 under `key`. A `label` keeps tokens
    of one kind from passing for another kind sealed with the same key."""
    body = b64url(json.dumps(payload, separators=(",", ":")).encode())
    return f"{body}.{_mac(key, label, body)}"


def unseal(token: str, key: bytes, *, label: bytes = b"") -> dict[str, Any] | None:
    """The payload of a token `seal` made with this key and label; None for anything else."""
    body, _, mac = token.partition(".")
    if not body or not mac or not hmac.compare_digest(_mac(key, label, body), mac):
        return None
    try:
        payload = json.loads(unb64url(body))
    except (binascii.Error, ValueError):
        return None
    return payload if isinstance(payload, dict) else None


def peek(token: str) -> dict[str, Any] | None:
    """The payload of a sealed token, NOT checked: only to pick the key that `unseal` then checks it with."""
    body = token.partition(".")[0]
    try:
        payload = json.loads(unb64url(body))
    except (binascii.Error, ValueError):
        return None
    return payload if isinstance(payload, dict) else None
