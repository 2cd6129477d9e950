"""PartitionKey/RowKey escaping.

Azure Tables forbids `/ \\ # ?` and control characters (U+0000-U+001F, U+007F-U+009F) in keys, and `%` in a key
breaks point operations on the real service (the path is decoded twice). Those characters, and our escape
character `~`, become `~XX` (two hex digits); everything else is kept, so keys stay readable and sort as before
for ordinary text.
"""

from __future__ import annotations

import re

from shared.core.errors import InvalidInput

_ESCAPE = "~"
_FORBIDDEN = re.compile(r"[/\\#?%~\x00-\x1f\x7f-\x9f]")
_ESCAPED = re.compile(r"~([0-9A-F]{2})")
MAX_KEY_BYTES = 1024  # the service measures keys in UTF-16


def encode_key(value: str) -> str:
    encoded = _FORBIDDEN.sub(lambda m: f"{_ESCAPE}{ord(m.group()):02X}", value)
    if len(encoded.encode("utf-16-le")) > MAX_KEY_BYTES:
        raise InvalidInput(f"A table key is longer than {MAX_KEY_BYTES} bytes once escaped; use a shorter key.")
    return encoded


def decode_key(value: str) -> str:
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), value)
