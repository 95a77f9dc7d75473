"""Backtesting a recording for a surface (the ``run_backtest`` tool and the ``backtest`` subcommand):
the starting cash rule, the default output folder and writing the result files."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..backtest.engine import BacktestResult, ProgressFn, run_backtest
from ..errors import InvalidInputError
from ..model.numbers import NotANumber, to_decimal

__all__ = ["backtest_recording", "default_output_dir", "parse_starting_cash"]


def parse_starting_cash(raw: str, *, name: str = "starting_cash") -> Decimal:
    """A positive, finite USD amount; ``name`` is the argument as the caller's surface spells it."""
    try:
        cash = to_decimal(raw)
    except NotANumber:
        raise InvalidInputError(f"{name} must be a number, not {raw!r}") from None
    if not cash.is_finite() or cash <= 0:
        raise InvalidInputError(f"{name} must be a positive USD amount")
    return cash


def default_output_dir(data_dir: Path, recording: Path, strategy: str) -> Path:
    """``<data_dir>/backtests/<recording id>-<strategy>``."""
    return data_dir / "backtests" / f"{recording.name.removesuffix('.jsonl.gz')}-{strategy}"


async def backtest_recording(
    recording: Path,
    strategy: str,
    config: Mapping[str, Any],
    cash: Decimal,
    out_dir: Path,
    *,
    progress: ProgressFn | None = None,
    allow_damaged: bool = False,
) -> tuple[BacktestResult, dict[str, Path]]:
    """Run the backtest and write ``summary.json``, ``fills.csv`` and ``equity.csv`` to ``out_dir``."""
    result = await run_backtest(recording, strategy, config, cash, progress=progress, allow_damaged=allow_damaged)
    return result, result.write(out_dir)
