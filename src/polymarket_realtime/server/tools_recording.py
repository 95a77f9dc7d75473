"""Toolset ``recording``: start/stop/list recordings of raw venue frames, and backtest on them.

A recording holds the raw frames exactly as received (with channel and local receive time) in
``<data_dir>/recordings/<id>.jsonl.gz``. ``run_backtest`` replays one through the parser, books and a
paper session running a strategy, deterministically, and writes fills, equity curve and summary to
``<data_dir>/backtests/<id>-<strategy>/`` (CSV and JSON).
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel, Field

from ..app.root import Application
from ..app.validation import check_market_refs, check_token_ids
from ..errors import InvalidInputError
from ..recording.service import RecordingInfo, RecordingList, RecordingService
from .annotations import (
    CREATE as _START,
    IDEMPOTENT_ACTION as _BACKTEST,
    IDEMPOTENT_ACTION as _STOP,
    READ_LOCAL as _READ_LOCAL,
)
from .context import app_context

__all__ = ["BacktestSummary", "register"]


class BacktestSummary(BaseModel):
    recording_id: str
    strategy: str
    summary: dict[str, Any] = Field(
        description="return, return_pct, max_drawdown (fraction), trades, closing_trades, win_rate, fees, "
        "final_equity, starting_cash, frames, events, params, token_ids."
    )
    files: dict[str, str] = Field(description="summary.json (summary + fills + equity), fills.csv, equity.csv.")
    recent_fills: list[dict[str, str]] = Field(description="The last 10 fills (all are in fills.csv).")


def _service(ctx: Context[Any, Any]) -> tuple[Application, RecordingService]:
    app = app_context(ctx)
    return app, app.require_recording()


def register(mcp: MCPServer[Application]) -> None:
    @mcp.tool(
        title="Start recording raw market data",
        annotations=_START,
        description=(
            "Record every raw frame for the given outcome tokens and/or markets (slugs or condition ids: all their "
            "outcomes), exactly as received with its local receive time, to a compressed file in the data directory. "
            "Flushed at least every second; rotated by size. Stop it with "
            "stop_recording(recording_id); replay it with `serve --replay FILE` or backtest it with run_backtest."
        ),
    )
    async def start_recording(
        ctx: Context[Any, Any],
        token_ids: Annotated[list[str], Field(description="Outcome token ids (decimal strings).")] = [],  # noqa: B006
        market_ids: Annotated[list[str], Field(description="Condition ids or market slugs.")] = [],  # noqa: B006
        name: Annotated[str, Field(description="A short name; part of the recording id.", max_length=60)] = "",
    ) -> RecordingInfo:
        _app, service = _service(ctx)
        tokens = check_token_ids(token_ids) if token_ids else []
        markets = check_market_refs(market_ids) if market_ids else []
        if not tokens and not markets:
            raise InvalidInputError("give token_ids and/or market_ids to record")
        return await service.start_recording(tokens, markets, name)

    @mcp.tool(
        title="Stop a recording",
        annotations=_STOP,
        description="Flush and close an active recording; returns its final info (frames, bytes, parts, path). "
        "Backtest it with run_backtest(recording_id).",
    )
    async def stop_recording(
        ctx: Context[Any, Any],
        recording_id: Annotated[str, Field(description="From start_recording or list_recordings.")],
    ) -> RecordingInfo:
        _app, service = _service(ctx)
        return await service.stop_recording(recording_id)

    @mcp.tool(
        title="List recordings",
        annotations=_READ_LOCAL,
        description="Recordings in the data directory (active ones first-class), with tokens, size and state. "
        "Backtest one with run_backtest(recording_id).",
    )
    async def list_recordings(ctx: Context[Any, Any]) -> RecordingList:
        _app, service = _service(ctx)
        return service.list_recordings()

    @mcp.tool(
        title="Backtest a strategy on a recording",
        annotations=_BACKTEST,
        description=(
            "Replay a recording at full speed through order books and a paper session traded by a strategy "
            '(\'mean_reversion\'); deterministic. config: strategy params (e.g. {"window": 20, "threshold": '
            '"0.02"}), optional token_ids (default: all recorded), risk, fee_bps, equity_interval_s. Reports '
            "progress; writes fills.csv, equity.csv, summary.json; returns the summary (return, drawdown, trades, "
            "fees)."
        ),
    )
    async def run_backtest(
        ctx: Context[Any, Any],
        recording_id: Annotated[str, Field(description="A recording id from list_recordings (or its name).")],
        strategy: Annotated[str, Field(description="Strategy name, e.g. mean_reversion.")] = "mean_reversion",
        config: Annotated[dict[str, Any], Field(description="Strategy params and backtest options.")] = {},  # noqa: B006
        starting_cash: Annotated[str, Field(description="Paper cash in USD, e.g. '1000'.")] = "1000",
        allow_damaged: Annotated[
            bool, Field(description="Backtest the valid prefix of a corrupt or truncated recording.")
        ] = False,
    ) -> BacktestSummary:
        from ..app.backtest import backtest_recording, default_output_dir, parse_starting_cash

        app, service = _service(ctx)
        path = service.path_of(recording_id)
        cash = parse_starting_cash(starting_cash)

        async def progress(done: int, total: int) -> None:
            await ctx.report_progress(done, total, "replaying recording")

        out_dir = default_output_dir(app.settings.data_dir, path, strategy)
        result, files = await backtest_recording(
            path, strategy, config, cash, out_dir, progress=progress, allow_damaged=allow_damaged
        )
        stem = path.name.removesuffix(".jsonl.gz")
        return BacktestSummary(
            recording_id=stem,
            strategy=strategy,
            summary=result.summary,
            files={k: str(v) for k, v in files.items()},
            recent_fills=result.fills[-10:],
        )
