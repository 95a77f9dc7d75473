"""Deterministic backtest: a strategy agent trading a paper session over a recording, as fast as possible.

Contract:

* Frames go straight from the file through the sans-I/O parser into a :class:`BookStore`, the
  :class:`PaperService` (resting fills, settlement, risk limits) and the strategy agents: no sockets,
  no timers, no wall clock. Every timestamp comes from the recording (:class:`ReplayClock`), and ids in
  the outputs are renumbered in order of appearance, so the same recording, strategy, config and cash
  always give byte-identical outputs.
* The paper session is the real one (same engine, fees, risk limits and state rules as live trading),
  kept in a throw-away SQLite file.
* Results: every fill, an equity curve (sampled every ``equity_interval_s`` of recorded time, at every
  fill and at the end), and a summary (return, max drawdown, trades, win rate, fees), written as
  ``summary.json``, ``fills.csv`` and ``equity.csv`` by :meth:`BacktestResult.write`.
* Win rate counts SELL fills (closing trades) whose price beat the average cost of the position.
* Speed does not depend on the number of agents: each event goes only to the agents of its token
  (:class:`_AgentIndex`), and to the paper session only when it can react (:meth:`_Ctx.paper_needs`).
* Bad options (``equity_interval_s``, ``fee_bps``, ``risk``, ``token_ids``) raise
  :class:`~polymarket_realtime.errors.InvalidInputError` naming the option, for the CLI and the tool alike.
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..agents.strategy import STRATEGIES, StrategyAgent
from ..clock import Clock
from ..errors import InvalidInputError, PolymarketRealtimeError
from ..feed.books import BookStore
from ..model.book import BookReader
from ..model.events import Event, MarketResolved
from ..model.numbers import NotANumber, to_decimal
from ..paper.models import OrderResult
from ..paper.service import PaperService
from ..recording.reader import RecordingReader
from ..storage.activity import ActivityFeed
from ..storage.db import Database
from ..venues.polymarket.parsing import parse_market_frame, parse_rtds_frame
from ..venues.polymarket.polybolt import parse_polybolt_frame
from .results import renumber_fills, summarize

__all__ = ["BacktestResult", "ReplayClock", "run_backtest"]

ProgressFn = Callable[[int, int], Awaitable[None] | None]
_RESERVED = ("token_ids", "token_id", "risk", "fee_bps", "equity_interval_s")


class ReplayClock:
    """Recorded time: advanced to each frame's receive time by the backtest loop."""

    def __init__(self) -> None:
        self.now_ns = 0

    def monotonic(self) -> float:
        return self.now_ns / 1e9

    def time_ns(self) -> int:
        return self.now_ns


@dataclass
class BacktestResult:
    summary: dict[str, Any]
    fills: list[dict[str, str]]
    equity: list[dict[str, str]]
    log: list[str] = field(default_factory=list)
    """The strategy agents' decision log (``level: message``)."""

    def write(self, out_dir: Path) -> dict[str, Path]:
        """Write ``summary.json`` (summary + fills + equity), ``fills.csv`` and ``equity.csv``."""
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = {
            "summary": out_dir / "summary.json",
            "fills": out_dir / "fills.csv",
            "equity": out_dir / "equity.csv",
        }
        document = {"summary": self.summary, "fills": self.fills, "equity": self.equity}
        paths["summary"].write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        _write_csv(paths["fills"], FILL_COLUMNS, self.fills)
        _write_csv(paths["equity"], EQUITY_COLUMNS, self.equity)
        return paths


FILL_COLUMNS = ("fill_id", "order_id", "ts_ms", "token_id", "side", "price", "size", "fee", "liquidity")
EQUITY_COLUMNS = ("ts_ms", "equity", "cash")


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


class _Ctx:
    """AgentContext for a backtest: orders go to the paper session, logs to memory."""

    def __init__(self, paper: PaperService, books: BookStore, clock: ReplayClock, session_id: str, log: list[str]):
        self.agent_id = "backtest"
        self.books: BookReader = books
        self.clock: Clock = clock
        self._replay_clock = clock
        self.session_id: str | None = session_id
        self._paper = paper
        self._log = log
        self.results: list[OrderResult] = []
        self.resting_tokens: set[str] = set()
        """Tokens that ever had a resting (open) order: the paper session must see their events."""
        self.loss_limits = False
        """The session has a loss limit (daily loss or drawdown): it must see events of held tokens."""

    async def log(self, level: str, message: str) -> None:
        if len(self._log) < 10_000:
            self._log.append(f"{self._replay_clock.now_ns // 1_000_000} {level}: {message}")

    async def alert(self, token_id: str, price: Decimal, message: str) -> None:
        await self.log("alert", f"{token_id} {price} {message}")

    async def activity(self, kind: str, message: str, data: dict[str, Any] | None = None) -> None:
        return None

    async def place_order(self, token_id: str, side: str, size: Decimal) -> OrderResult:
        assert self.session_id is not None
        result = await self._paper.place_order(self.session_id, token_id, "BUY" if side == "BUY" else "SELL", size)
        self.results.append(result)
        if result.order.status == "open":
            self.resting_tokens.add(token_id)
        return result

    def paper_needs(self, event: Event) -> bool:
        """Whether the paper session can react to ``event``; skipping the others changes no output.

        The session fills resting orders on the event's token, settles resolutions, and checks loss limits
        when it holds the token; anything else is a no-op behind its lock, which cost more than the whole
        rest of the event's processing when every recorded token is traded.
        """
        if event.type not in _PAPER_TYPES:
            return False
        token = getattr(event, "asset_id", None)
        if token is None:
            return True
        if token in self.resting_tokens:
            return True
        return self.loss_limits and self.position(token) != 0

    def position(self, token_id: str) -> Decimal:
        assert self.session_id is not None
        return self._paper.position_size(self.session_id, token_id)


def parse_config(strategy: str, config: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split ``config`` into strategy params (validated) and backtest options."""
    if strategy not in STRATEGIES:
        raise InvalidInputError(f"unknown strategy {strategy!r}; known: {', '.join(sorted(STRATEGIES))}.")
    raw_params = dict(config.get("params") or {})
    raw_params.update({k: v for k, v in config.items() if k not in (*_RESERVED, "params")})
    params = STRATEGIES[strategy].parse_params(raw_params)
    options = {k: config[k] for k in _RESERVED if k in config}
    return params, options


async def run_backtest(
    path: Path,
    strategy: str,
    config: Mapping[str, Any],
    starting_cash: Decimal,
    *,
    progress: ProgressFn | None = None,
    progress_every: int = 5_000,
    allow_damaged: bool = False,
) -> BacktestResult:
    """Run ``strategy`` with ``config`` over the recording at ``path``.

    Args:
        path: first part of the recording.
        strategy: a name from :data:`~polymarket_realtime.agents.strategy.STRATEGIES`.
        config: strategy parameters (top level or under ``params``) plus optional ``token_ids``
            (default: every token of the recording), ``risk`` (paper risk limits), ``fee_bps`` and
            ``equity_interval_s`` (default 1).
        starting_cash: the paper session's cash in USD.
        progress: called with ``(bytes_done, bytes_total)`` at least every 1% of the bytes (as each
            gzip member is consumed), also every ``progress_every`` frames, and once at the end with
            ``(total, total)``.
        allow_damaged: backtest the valid prefix of a damaged recording (the summary's
            ``recording_error`` names the offset) instead of raising.

    Raises:
        InvalidInputError: bad strategy, config or cash.
        RecordingError: the recording is damaged and ``allow_damaged`` is false (raised after the valid
            prefix was processed, so a backtest never silently covers less data than asked).
    """
    params, options = parse_config(strategy, config)
    reader = RecordingReader(path)
    header = reader.read_header()
    tokens = options.get("token_ids") or ([options["token_id"]] if "token_id" in options else header.token_ids)
    if not isinstance(tokens, list) or not tokens or not all(isinstance(t, str) and t.isdigit() for t in tokens):
        raise InvalidInputError("config.token_ids must be a non-empty list of token ids (decimal strings).")
    interval_ns = int(_decimal_option(options, "equity_interval_s", 1) * 1_000_000_000)
    if interval_ns <= 0:
        raise InvalidInputError("config.equity_interval_s must be a positive number of seconds.")
    fee_bps = None if options.get("fee_bps") is None else _decimal_option(options, "fee_bps", 0)
    if fee_bps is not None and fee_bps < 0:
        raise InvalidInputError("config.fee_bps must be a number >= 0.")
    if "risk" in options and options["risk"] is not None and not isinstance(options["risk"], Mapping):
        raise InvalidInputError("config.risk must be an object of paper risk limits.")

    clock = ReplayClock()
    books = BookStore(clock=clock)
    log: list[str] = []
    with tempfile.TemporaryDirectory(prefix="pm-backtest-") as tmp:
        db = Database(Path(tmp) / "backtest.sqlite3").open()
        # A throw-away database: durability buys nothing here, and fsync per fill dominated the run time.
        db.read_sync(lambda c: c.execute("PRAGMA synchronous = OFF"))
        try:
            paper = PaperService(db, ActivityFeed(db, clock=clock), books, clock=clock)
            detail = await paper.create_session(
                "backtest",
                starting_cash=starting_cash,
                token_ids=tokens,
                risk=options.get("risk"),
                fee_bps=fee_bps,
            )
            sid = detail.session_id
            ctx = _Ctx(paper, books, clock, sid, log)
            ctx.loss_limits = any(detail.risk.get(k) is not None for k in ("max_daily_loss_usd", "max_drawdown_pct"))
            router = _AgentIndex()
            for token in tokens:
                agent = StrategyAgent({"strategy": strategy, "token_id": token, "params": params}, ctx, {})
                await agent.on_start()
                router.add(agent)
            total = sum(p.stat().st_size for p in reader.parts())
            # A report whenever another 1% of the bytes is done (small recordings show progress too) and
            # every ``progress_every`` frames in between: about 100 + frames / progress_every in all.
            step = max(1, total // 100)
            next_report, reported = step, 0
            equity: list[dict[str, str]] = []
            next_sample = 0
            frames = events = 0

            def sample() -> None:
                summary = paper.list_sessions().sessions[0]
                row = {"ts_ms": str(clock.now_ns // 1_000_000), "equity": summary.equity, "cash": summary.cash}
                if equity and equity[-1]["ts_ms"] == row["ts_ms"]:
                    equity[-1] = row
                else:
                    equity.append(row)

            for frame in reader.frames(on_error="stop" if allow_damaged else "raise"):
                frames += 1
                clock.now_ns = frame.ts_recv_ns
                fills_before = len(ctx.results)
                if frame.channel in ("market", "snapshot"):
                    parsed = parse_market_frame(frame.data, frame.ts_recv_ns)
                elif frame.channel == "rtds":
                    parsed = parse_rtds_frame(frame.data, frame.ts_recv_ns)
                elif frame.channel == "polybolt":
                    parsed = parse_polybolt_frame(frame.data, frame.ts_recv_ns)
                else:
                    continue
                for event in parsed.events:
                    events += 1
                    books.apply(event)
                    await _dispatch(event, paper, router, ctx)
                if next_sample == 0:
                    next_sample = frame.ts_recv_ns
                if frame.ts_recv_ns >= next_sample or len(ctx.results) != fills_before:
                    sample()
                    next_sample = frame.ts_recv_ns + interval_ns
                done = reader.bytes_done
                if progress is not None and done > reported and (done >= next_report or frames % progress_every == 0):
                    # Strictly increasing values only: MCP progress must grow.
                    await _call(progress, done, total)
                    reported, next_report = done, done + step
            sample()
            if progress is not None:
                await _call(progress, total, total)
            final = await paper.get_session(sid, fills=0)
            stored = await db.read(lambda c: _all_fills(c, sid))
        finally:
            db.close()

    fills = renumber_fills(ctx.results, stored)
    summary = summarize(
        header.recording_id, strategy, params, tokens, starting_cash, final.equity, fills, equity, frames, events
    )
    summary["fees"] = final.fees_paid
    summary["final_cash"] = final.cash
    summary["realized_pnl"] = final.realized_pnl
    summary["session_state"] = f"{final.state} ({final.state_reason})"
    if reader.error is not None:
        summary["recording_error"] = str(reader.error)
    return BacktestResult(summary=summary, fills=fills, equity=equity, log=log)


class _AgentIndex:
    """Agents by the token they watch, so an event reaches only the agents it concerns.

    A token-scoped event (one with ``asset_id``) goes to the agents of that token, in creation order;
    an event without one (market-wide) goes to every agent whose ``event_types`` include it. Agents
    skip other tokens' events anyway, so this only removes no-op calls: outputs are unchanged, and a
    backtest over every recorded token costs per event what one over a single token does.
    """

    def __init__(self) -> None:
        self.by_token: dict[str, list[StrategyAgent]] = {}
        self.all: list[StrategyAgent] = []
        self.wanted: frozenset[str] = frozenset()

    def add(self, agent: StrategyAgent) -> None:
        self.all.append(agent)
        for token in agent.token_ids():
            self.by_token.setdefault(token, []).append(agent)
        self.wanted = self.wanted | frozenset(agent.event_types)

    def targets(self, event: Event) -> list[StrategyAgent]:
        if event.type not in self.wanted:
            return []
        asset_id = getattr(event, "asset_id", None)
        if asset_id is None:
            return [a for a in self.all if event.type in a.event_types]
        return self.by_token.get(asset_id, [])


_PAPER_TYPES = frozenset(("book", "price_change", "last_trade_price", "market_resolved"))


async def _dispatch(event: Event, paper: PaperService, router: _AgentIndex, ctx: _Ctx) -> None:
    if ctx.paper_needs(event):
        await paper.handle_event(event)
    if isinstance(event, MarketResolved):
        return
    for agent in router.targets(event):
        try:
            await agent.on_event(event)
        except PolymarketRealtimeError as exc:
            await ctx.log("warning", f"strategy error: {exc}")


def _decimal_option(options: Mapping[str, Any], key: str, default: int) -> Decimal:
    """A finite number option (JSON number or numeric string), else InvalidInputError naming it."""
    raw = options.get(key, default)
    try:
        value = to_decimal(raw)
    except NotANumber:
        raise InvalidInputError(f"config.{key} must be a number, not {raw!r}.") from None
    if not value.is_finite():
        raise InvalidInputError(f"config.{key} must be a finite number, not {raw!r}.")
    return value


async def _call(progress: ProgressFn, done: int, total: int) -> None:
    result = progress(done, total)
    if result is not None:
        await result


def _all_fills(conn: Any, session_id: str) -> list[Any]:
    from ..storage import orders as orders_db

    return orders_db.load_fills(conn, session_id, 10_000_000)
