"""Deterministic backtests over a recording: :mod:`.engine` (no sockets) composes paper, agents and storage;
:mod:`.results` the summary. The ``backtest`` subcommand is :mod:`polymarket_realtime.cli.backtest`."""

from __future__ import annotations

from .engine import BacktestResult, run_backtest

__all__ = ["BacktestResult", "run_backtest"]
