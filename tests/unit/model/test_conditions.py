"""Condition ids of both widths: the one normalization every join relies on."""

from __future__ import annotations

import pytest

from polymarket_realtime.errors import InvalidInputError
from polymarket_realtime.model.conditions import (
    condition_key,
    gamma_condition_forms,
    is_condition_id,
    looks_like_condition_id,
    narrow_condition_id,
    normalize_condition_id,
)

V2_GAMMA = "0x017089CE3BA22AAA0A4CBA8250B8C8E1EB0000000000000000000000000000"  # 62 hex, as Gamma shows it
V2_CLOB = V2_GAMMA.lower() + "00"
V1 = "0x" + "ab" * 32


def test_either_width_normalizes_to_the_lowercase_64_hex_clob_form() -> None:
    assert is_condition_id(V2_GAMMA) and is_condition_id(V2_CLOB) and is_condition_id(V1)
    assert normalize_condition_id(V2_GAMMA) == V2_CLOB
    assert normalize_condition_id(f"  {V2_CLOB.upper().replace('0X', '0x')} ") == V2_CLOB
    assert normalize_condition_id(V1) == V1
    assert condition_key(V2_GAMMA) == V2_CLOB == condition_key(V2_CLOB)


@pytest.mark.parametrize("bad", ["0x" + "a" * 61, "0x" + "a" * 63, "0x" + "a" * 65, "0x" + "g" * 62, "ab" * 32, ""])
def test_malformed_ids_raise_naming_both_widths(bad: str) -> None:
    assert not is_condition_id(bad)
    with pytest.raises(InvalidInputError, match="64 hex characters, or 62"):
        normalize_condition_id(bad, field="market_ids entry")
    assert condition_key(bad) == bad  # the lenient form never raises: venue data passes through


def test_narrowing_asserts_the_padding_byte_is_zero() -> None:
    assert narrow_condition_id(V2_CLOB) == V2_GAMMA.lower()
    assert narrow_condition_id(V2_GAMMA) == V2_GAMMA.lower()
    with pytest.raises(InvalidInputError, match="last byte is not zero"):
        narrow_condition_id(V1)


def test_gamma_is_asked_for_both_forms_only_when_the_last_byte_is_zero() -> None:
    assert gamma_condition_forms(V2_GAMMA) == [V2_CLOB, V2_GAMMA.lower()]
    assert gamma_condition_forms(V1) == [V1]


def test_what_counts_as_meant_to_be_a_condition_id() -> None:
    assert looks_like_condition_id("0x" + "zz" * 31) and looks_like_condition_id("0x" + "a" * 63)
    assert not looks_like_condition_id("0x-protocol-token-launch") and not looks_like_condition_id("will-btc-hit-100k")
