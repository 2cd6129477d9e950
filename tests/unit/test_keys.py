from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.core.errors import InvalidInput
from shared.storage.keys import decode_key, encode_key

FORBIDDEN = re.compile(r"[/\\#?%\x00-\x1f\x7f-\x9f]")


@given(st.text(max_size=200))
def test_encoding_round_trips_and_leaves_no_forbidden_character(value: str) -> None:
    encoded = encode_key(value)
    assert not FORBIDDEN.search(encoded)
    assert decode_key(encoded) == value


def test_ordinary_keys_are_unchanged() -> None:
    assert encode_key("Appointment-123 (EU) é") == "Appointment-123 (EU) é"


def test_escape_character_itself_is_escaped() -> None:
    assert encode_key("~2F") == "~7E2F"
    assert decode_key(encode_key("~2F")) == "~2F"


def test_overlong_key_is_refused_with_a_clear_error() -> None:
    with pytest.raises(InvalidInput, match="longer than 1024 bytes"):
        encode_key("x" * 513)
