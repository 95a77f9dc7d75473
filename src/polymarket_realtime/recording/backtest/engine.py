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

from ...agents.base import BookSource as AgentBooks
from ...agents.strategy import STRATEGIES, StrategyAgent
from ...clock import Clock
from ...errors import InvalidInputError, PolymarketRealtimeError
from ...feed.books import BookStore
from ...model.events import Event, MarketResolved
from ...paper.models import OrderResult
from ...paper.service import PaperService
from ...storage.activity import ActivityFeed
from ...storage.db import Database
from ...venues.polymarket.parsing import parse_market_frame, parse_rtds_frame
from ..reader import RecordingReader

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
        self.books: AgentBooks = books
        self.clock: Clock = clock
        self._replay_clock = clock
        self.session_id: str | None = session_id
        self._paper = paper
        self._log = log
        self.results: list[OrderResult] = []

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
        return result

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
        progress: called with ``(bytes_done, bytes_total)`` every ``progress_every`` frames and at the end.
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
    interval_ns = int(Decimal(str(options.get("equity_interval_s", 1))) * 1_000_000_000)
    if interval_ns <= 0:
        raise InvalidInputError("config.equity_interval_s must be positive.")
    fee_bps = options.get("fee_bps")

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
                fee_bps=None if fee_bps is None else Decimal(str(fee_bps)),
            )
            sid = detail.session_id
            ctx = _Ctx(paper, books, clock, sid, log)
            agents = []
            for token in tokens:
                agent = StrategyAgent({"strategy": strategy, "token_id": token, "params": params}, ctx, {})
                await agent.on_start()
                agents.append(agent)
            wanted = frozenset(StrategyAgent.event_types)
            total = sum(p.stat().st_size for p in reader.parts())
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
                else:
                    continue
                for event in parsed.events:
                    events += 1
                    books.apply(event)
                    await _dispatch(event, paper, agents, wanted, ctx)
                if next_sample == 0:
                    next_sample = frame.ts_recv_ns
                if frame.ts_recv_ns >= next_sample or len(ctx.results) != fills_before:
                    sample()
                    next_sample = frame.ts_recv_ns + interval_ns
                if progress is not None and frames % progress_every == 0:
                    await _call(progress, reader.bytes_done, total)
            sample()
            if progress is not None:
                await _call(progress, total, total)
            final = await paper.get_session(sid, fills=0)
            stored = await db.read(lambda c: _all_fills(c, sid))
        finally:
            db.close()

    fills = _renumber(ctx.results, stored)
    summary = _summary(
        header.recording_id, strategy, params, tokens, starting_cash, final.equity, fills, equity, frames, events
    )
    summary["fees"] = final.fees_paid
    summary["final_cash"] = final.cash
    summary["realized_pnl"] = final.realized_pnl
    summary["session_state"] = f"{final.state} ({final.state_reason})"
    if reader.error is not None:
        summary["recording_error"] = str(reader.error)
    return BacktestResult(summary=summary, fills=fills, equity=equity, log=log)


async def _dispatch(
    event: Event, paper: PaperService, agents: list[StrategyAgent], wanted: frozenset[str], ctx: _Ctx
) -> None:
    if event.type in ("book", "price_change", "last_trade_price", "market_resolved"):
        await paper.handle_event(event)
    if isinstance(event, MarketResolved) or event.type not in wanted:
        return
    for agent in agents:
        try:
            await agent.on_event(event)
        except PolymarketRealtimeError as exc:
            await ctx.log("warning", f"strategy error: {exc}")


async def _call(progress: ProgressFn, done: int, total: int) -> None:
    result = progress(done, total)
    if result is not None:
        await result


def _all_fills(conn: Any, session_id: str) -> list[Any]:
    from ...storage import repository as repo

    return repo.load_fills(conn, session_id, 10_000_000)


def _renumber(results: list[OrderResult], stored: list[Any]) -> list[dict[str, str]]:
    """Fills in the order they happened, with order/fill ids renumbered deterministically."""
    order_ids: dict[str, str] = {}
    rows: list[tuple[int, int, dict[str, str]]] = []
    seen: set[str] = set()
    for result in results:
        for fill in result.fills:
            seen.add(fill.fill_id)
            rows.append((fill.ts_ms, len(rows), _fill_row(fill.order_id, fill.ts_ms, fill, order_ids)))
    # Maker fills of resting orders happen inside the paper service; take them from the database.
    for record in sorted(stored, key=lambda f: f.ts_ns):
        if record.id not in seen:
            ts_ms = record.ts_ns // 1_000_000
            view = _RecordView(record)
            rows.append((ts_ms, len(rows), _fill_row(record.order_id, ts_ms, view, order_ids)))
    rows.sort(key=lambda r: (r[0], r[1]))
    counters: dict[str, int] = {}
    out = []
    for _, _, row in rows:
        counters[row["order_id"]] = counters.get(row["order_id"], 0) + 1
        row["fill_id"] = f"{row['order_id']}-f{counters[row['order_id']]}"
        out.append(row)
    return out


class _RecordView:
    def __init__(self, record: Any) -> None:
        self.token_id = record.token_id
        self.side = record.side
        self.price = _s(record.price)
        self.size = _s(record.size)
        self.fee = _s(record.fee)
        self.liquidity = record.liquidity


def _s(value: Decimal) -> str:
    text = format(value, "f")
    return (text.rstrip("0").rstrip(".") if "." in text else text) or "0"


def _fill_row(order_id: str, ts_ms: int, fill: Any, order_ids: dict[str, str]) -> dict[str, str]:
    short = order_ids.setdefault(order_id, f"o{len(order_ids) + 1}")
    return {
        "fill_id": "",
        "order_id": short,
        "ts_ms": str(ts_ms),
        "token_id": fill.token_id,
        "side": fill.side,
        "price": str(fill.price),
        "size": str(fill.size),
        "fee": str(fill.fee),
        "liquidity": fill.liquidity,
    }


def _summary(
    recording_id: str,
    strategy: str,
    params: dict[str, Any],
    tokens: list[str],
    starting_cash: Decimal,
    final_equity: str,
    fills: list[dict[str, str]],
    equity: list[dict[str, str]],
    frames: int,
    events: int,
) -> dict[str, Any]:
    start = starting_cash
    end = Decimal(final_equity)
    peak = Decimal(0)
    max_dd = Decimal(0)
    for row in equity:
        value = Decimal(row["equity"])
        peak = max(peak, value)
        if peak > 0:
            max_dd = max(max_dd, (peak - value) / peak)
    wins = closes = 0
    cost: dict[str, tuple[Decimal, Decimal]] = {}  # token -> (size, total cost incl. fees)
    for fill in fills:
        token, price, size, fee = fill["token_id"], Decimal(fill["price"]), Decimal(fill["size"]), Decimal(fill["fee"])
        held, spent = cost.get(token, (Decimal(0), Decimal(0)))
        if fill["side"] == "BUY":
            cost[token] = (held + size, spent + price * size + fee)
        elif held > 0:
            average = spent / held
            closes += 1
            if price * size - fee > average * size:
                wins += 1
            sold = min(size, held)
            cost[token] = (held - sold, spent - average * sold)
    q = Decimal("0.000001")
    return {
        "recording_id": recording_id,
        "strategy": strategy,
        "params": params,
        "token_ids": tokens,
        "starting_cash": _s(start),
        "final_equity": _s(end),
        "return": _s(((end - start) / start).quantize(q)),
        "return_pct": _s(((end - start) / start * 100).quantize(Decimal("0.0001"))),
        "max_drawdown": _s(max_dd.quantize(q)),
        "trades": len(fills),
        "closing_trades": closes,
        "win_rate": None if closes == 0 else _s((Decimal(wins) / closes).quantize(q)),
        "frames": frames,
        "events": events,
        "first_ts_ms": int(equity[0]["ts_ms"]) if equity else 0,
        "last_ts_ms": int(equity[-1]["ts_ms"]) if equity else 0,
    }
