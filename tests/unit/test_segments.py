"""SMS segments: GSM-7 (its extension table counting double) or UCS-2, 160/153 or 70/67 per segment."""

from __future__ import annotations

import pytest

from shared.messaging.segments import Segments, segments


def test_plain_english_is_gsm7_in_one_segment() -> None:
    assert segments("North Clinic: your video visit is booked for Mon, Dec 7 at 12:56 PM CST.") == Segments(
        "GSM-7", 72, 1
    )


def test_gsm7_boundaries_are_160_then_153_per_part() -> None:
    assert segments("a" * 160) == Segments("GSM-7", 160, 1)
    assert segments("a" * 161) == Segments("GSM-7", 161, 2)
    assert segments("a" * 306) == Segments("GSM-7", 306, 2)
    assert segments("a" * 307) == Segments("GSM-7", 307, 3)


def test_extension_characters_count_double() -> None:
    assert segments("€[]{}|^~\\") == Segments("GSM-7", 18, 1)
    assert segments("a" * 158 + "€") == Segments("GSM-7", 160, 1)
    assert segments("a" * 159 + "€") == Segments("GSM-7", 161, 2)
    # An escape and its character are never split: the second part begins with the euro sign.
    assert segments("a" * 152 + "€" + "a" * 152).count == 3


def test_gsm7_has_some_accents_of_its_own() -> None:
    assert segments("é è ñ ü à Ñ ¿ ¡").encoding == "GSM-7"


@pytest.mark.parametrize("character", ["á", "í", "ó", "ú", "\u2019", "\u201c", "\u202f"])
def test_a_character_outside_gsm7_makes_the_text_ucs2(character: str) -> None:
    assert segments(f"Su cita es el lunes{character}") == Segments("UCS-2", 20, 1)


def test_ucs2_boundaries_are_70_then_67_per_part() -> None:
    assert segments("á" * 70) == Segments("UCS-2", 70, 1)
    assert segments("á" * 71) == Segments("UCS-2", 71, 2)
    assert segments("á" * 134) == Segments("UCS-2", 134, 2)
    assert segments("á" * 135) == Segments("UCS-2", 135, 3)


def test_an_emoji_is_two_ucs2_units_never_split() -> None:
    assert segments("\U0001f600") == Segments("UCS-2", 2, 1)
    assert segments("a" * 66 + "\U0001f600" + "a" * 66).count == 3
