"""Backtest outputs: fills renumbered in order of appearance, and the summary (return, drawdown, win rate).

Pure functions over the paper session's results, kept apart from the event loop in :mod:`.engine`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..paper.models import OrderResult

__all__ = ["renumber_fills", "summarize"]


def renumber_fills(results: list[OrderResult], stored: list[Any]) -> list[dict[str, str]]:
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


def summarize(
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
