"""From the bytes a sender posts to HL7 text with `\\r` segment separators: MLLP framing bytes removed (0x0B
start, 0x1C 0x0D end), `\\r\\n` and `\\n` separators accepted, the character set of the Content-Type honoured."""

from __future__ import annotations

import codecs

from shared.hl7 import Hl7Rejected

MLLP_START = b"\x0b"
MLLP_END = b"\x1c"
MAX_MESSAGE_BYTES = 1024 * 1024


def charset_of(content_type: str | None) -> str:
    for part in (content_type or "").split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            try:
                return codecs.lookup(value.strip('"')).name
            except LookupError:
                raise Hl7Rejected(f"The character set {value[:40]!r} is not supported; send UTF-8.") from None
    return "utf-8"


def unframe(body: bytes, content_type: str | None = None) -> str:
    """The message text with `\\r` between segments, or Hl7Rejected."""
    if len(body) > MAX_MESSAGE_BYTES:
        raise Hl7Rejected("The message is larger than 1 MB.")
    data = body.strip(b" \t\r\n")
    if data.startswith(MLLP_START):
        data = data[1:]
    end = data.find(MLLP_END)
    if end >= 0:
        data = data[:end]
    try:
        text = data.decode(charset_of(content_type))
    except UnicodeDecodeError:
        raise Hl7Rejected("The message is not valid text in its declared character set.") from None
    text = text.replace("\r\n", "\r").replace("\n", "\r").strip("\r")
    if not text.startswith("MSH") or len(text) < 8:
        raise Hl7Rejected("The message does not start with an MSH segment.")
    return "\r".join(segment for segment in text.split("\r") if segment.strip())
