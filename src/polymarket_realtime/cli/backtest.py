"""``polymarket-realtime-mcp backtest --recording FILE --strategy NAME --config JSON``.

Runs :func:`~.backtest.run_backtest` with a progress bar on stderr, writes ``summary.json``,
``fills.csv`` and ``equity.csv`` to ``--out`` (default ``<data_dir>/backtests/<recording>-<strategy>``),
optionally renders the equity curve to a PNG (``--png``, needs matplotlib: the ``plot`` extra), and
prints the summary as JSON on stdout. Bad input exits 2 and other failures (a damaged recording) 1,
each with one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import anyio

from ..app.backtest import backtest_recording, default_output_dir, parse_starting_cash
from ..backtest.engine import BacktestResult
from ..config import Settings
from ..errors import InvalidInputError, PolymarketRealtimeError
from ..recording.progress import ProgressBar

__all__ = ["add_arguments", "render_png", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--recording", required=True, type=Path, help="recording file (<id>.jsonl.gz)")
    parser.add_argument("--strategy", default="mean_reversion", help="strategy name (default mean_reversion)")
    parser.add_argument(
        "--config",
        default="{}",
        help='JSON object: strategy params (e.g. {"window": 10}) plus optional token_ids, risk, fee_bps, '
        "equity_interval_s; or @FILE to read it from a file",
    )
    parser.add_argument("--cash", default="1000", help="starting cash in USD (default 1000)")
    parser.add_argument("--out", type=Path, default=None, help="output directory")
    parser.add_argument("--png", nargs="?", const="", default=None, help="also render the equity curve to a PNG")
    parser.add_argument(
        "--allow-damaged", action="store_true", help="backtest the valid prefix of a corrupt or truncated recording"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _load_config(raw: str) -> dict[str, Any]:
    if raw.startswith("@"):
        try:
            text = Path(raw[1:]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInputError(
                f"cannot read --config file {raw[1:]}: {getattr(exc, 'strerror', None) or exc}"
            ) from None
    else:
        text = raw
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidInputError(f"--config is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidInputError("--config must be a JSON object")
    return value


def render_png(result: BacktestResult, path: Path, title: str = "") -> Path:
    """Render the equity curve with matplotlib (imported lazily: it is an optional extra)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise InvalidInputError("--png needs matplotlib: pip install 'polymarket-realtime-mcp[plot]'") from exc
    start_ms = int(result.equity[0]["ts_ms"]) if result.equity else 0
    xs = [(int(row["ts_ms"]) - start_ms) / 1000 for row in result.equity]
    ys = [float(row["equity"]) for row in result.equity]  # plotting only; the CSV keeps exact decimals
    fig, ax = plt.subplots(figsize=(9, 4), dpi=100)
    ax.plot(xs, ys, linewidth=1.2)
    ax.set_title(title or "equity")
    ax.set_xlabel("seconds since the first frame (recorded time)")
    ax.set_ylabel("equity (USD)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def run(args: argparse.Namespace) -> int:
    try:
        config = _load_config(args.config)
        cash = parse_starting_cash(args.cash, name="--cash")
        bar = None if args.quiet else ProgressBar("backtest")
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            if bar is not None:
                bar.update(done, total)

        out = args.out
        if out is None:
            out = default_output_dir(Settings.from_env().data_dir, args.recording, args.strategy)
        result, paths = anyio.run(
            lambda: backtest_recording(
                args.recording, args.strategy, config, cash, out, progress=progress, allow_damaged=args.allow_damaged
            )
        )
        elapsed = time.perf_counter() - started
        if bar is not None:
            bar.close(f"({result.summary['frames']} frames, {result.summary['frames'] / max(elapsed, 1e-9):,.0f}/s)")
        if args.png is not None:
            png = Path(args.png) if args.png else out / "equity.png"
            paths["png"] = render_png(result, png, f"{args.strategy} on {args.recording.name}")
        for name, path in paths.items():
            print(f"{name}: {path}", file=sys.stderr)
        print(json.dumps(result.summary, indent=2, sort_keys=True))
        return 0
    except InvalidInputError as exc:
        # Bad input (config, cash, strategy): exit 2 with one line, like every other CLI usage error.
        print(f"backtest failed: {exc}", file=sys.stderr)
        return 2
    except PolymarketRealtimeError as exc:
        print(f"backtest failed: {exc}", file=sys.stderr)
        return 1
