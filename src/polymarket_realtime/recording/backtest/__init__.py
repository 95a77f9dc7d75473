"""Deterministic backtests over a recording: :mod:`.engine` (no sockets) and the ``backtest`` CLI (:mod:`.cli`)."""

from __future__ import annotations

from .engine import BacktestResult, run_backtest

__all__ = ["BacktestResult", "run_backtest"]
