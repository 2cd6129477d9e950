"""Base64url without padding (RFC 4648 §5), as JWTs, PKCE and our join links use it."""

from __future__ import annotations

import base64


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    """Raises binascii.Error (a ValueError) on text that is not base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
