"""One starting-cash rule for the ``run_backtest`` tool and the ``backtest`` subcommand (app/backtest.py)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from polymarket_realtime.app.backtest import default_output_dir, parse_starting_cash
from polymarket_realtime.errors import InvalidInputError


def test_cash_is_a_positive_decimal_named_as_the_surface_spells_it() -> None:
    assert parse_starting_cash("1000.50") == Decimal("1000.50")
    with pytest.raises(InvalidInputError, match=r"starting_cash must be a number, not 'lots'"):
        parse_starting_cash("lots")
    with pytest.raises(InvalidInputError, match=r"^--cash must be a positive USD amount"):
        parse_starting_cash("-5", name="--cash")
    with pytest.raises(InvalidInputError, match="positive"):
        parse_starting_cash("Infinity")


def test_default_output_dir_is_named_after_recording_and_strategy(tmp_path: Path) -> None:
    out = default_output_dir(tmp_path, Path("/x/rec-1.jsonl.gz"), "mean_reversion")
    assert out == tmp_path / "backtests" / "rec-1-mean_reversion"
