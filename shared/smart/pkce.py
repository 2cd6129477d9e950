"""PKCE (RFC 7636) with S256, and the random values of an OAuth round trip."""

from __future__ import annotations

import hashlib
import secrets

from shared.core.encoding import b64url


def new_verifier() -> str:
    return secrets.token_urlsafe(64)[:96]  # 43-128 characters of [A-Za-z0-9-_]


def challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return b64url(digest)


def new_state() -> str:
    return secrets.token_urlsafe(32)  # 256 bits, well over SMART's 122


def new_nonce() -> str:
    return secrets.token_urlsafe(24)
