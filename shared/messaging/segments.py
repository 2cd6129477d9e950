"""How many SMS segments a text costs (3GPP TS 23.038 and 23.040): GSM-7 when every character is in its alphabet
(those of the extension table take two septets), else UCS-2. One segment holds 160 GSM-7 septets or 70 UCS-2
units; a longer text is sent in parts of 153 or 67 (the rest of each part is the header that joins them), and a
character is never split across two parts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

# (one segment, each part of a longer text), in septets for GSM-7 and in UTF-16 units for UCS-2.
CAPACITY: dict[Encoding, tuple[int, int]] = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True)
class Segments:
    encoding: Encoding
    units: int
    """GSM-7 septets, or UCS-2 (UTF-16) code units."""
    count: int


def segments(text: str) -> Segments:
    encoding: Encoding = "GSM-7" if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text) else "UCS-2"
    sizes = [_size(c, encoding) for c in text]
    single, part = CAPACITY[encoding]
    units = sum(sizes)
    if units <= single:
        return Segments(encoding, units, 1)
    count, used = 1, 0
    for size in sizes:
        if used + size > part:
            count, used = count + 1, 0
        used += size
    return Segments(encoding, units, count)


def _size(character: str, encoding: Encoding) -> int:
    if encoding == "GSM-7":
        return 2 if character in GSM7_EXTENSION else 1  # an escape, then the character
    return 2 if ord(character) > 0xFFFF else 1  # a surrogate pair (emoji)
