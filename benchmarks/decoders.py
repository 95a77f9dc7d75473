"""Decoder shoot-out for the market channel hot path: msgspec typed structs vs orjson vs stdlib json.

Issue 2 asks us to "measure and pick" the decoder. Two figures per decoder and frame kind:

* ``decode``: bytes -> Python objects only (msgspec: typed wire structs with Decimal fields;
  orjson/json: dicts of strings, no Decimals yet - flattering to them).
* ``to events``: bytes -> normalized :mod:`model.events` with exact Decimals and best-first levels,
  i.e. the work the feed really needs. msgspec = our ``parse_market_frame``; orjson/json = loads plus the
  equivalent dict-walking conversion below (same validation: finite, non-negative values).

Run: ``.venv/bin/python benchmarks/decoders.py`` (orjson is optional; it is skipped if not installed).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from decimal import Decimal
from operator import attrgetter
from typing import Any

from polymarket_realtime.model.events import BookSnapshot, Event, Level, LevelChange, PriceChange
from polymarket_realtime.venues.polymarket import schemas
from polymarket_realtime.venues.polymarket.frames import check_level, opt_dec
from polymarket_realtime.venues.polymarket.parsing import parse_market_frame

try:
    import orjson  # type: ignore[import-not-found, unused-ignore]  # optional, not a project dependency
except ImportError:
    orjson = None

import msgspec

RNG = random.Random(7)
TOKENS = [str(RNG.getrandbits(256)) for _ in range(2)]
MARKET = "0x" + f"{RNG.getrandbits(256):064x}"


def price_change_frame() -> bytes:
    changes = []
    for token, side in zip(TOKENS, ("BUY", "SELL"), strict=True):
        price = f"0.{RNG.randint(1, 99):02d}"
        changes.append(
            {
                "asset_id": token,
                "price": price,
                "size": f"{RNG.randint(0, 50000)}.{RNG.randint(0, 99):02d}",
                "side": side,
                "hash": f"{RNG.getrandbits(160):040x}",
                "best_bid": "0.48",
                "best_ask": "0.52",
            }
        )
    frame = {"event_type": "price_change", "market": MARKET, "price_changes": changes, "timestamp": "1757908892351"}
    return json.dumps(frame).encode()


def book_frame(levels: int = 40) -> bytes:
    bids = [
        {"price": f"0.{i:02d}", "size": f"{RNG.randint(1, 90000)}.{RNG.randint(0, 99)}"}
        for i in range(1, levels // 2 + 1)
    ]
    asks = [{"price": f"0.{i:02d}", "size": f"{RNG.randint(1, 90000)}"} for i in range(99, 99 - levels // 2, -1)]
    frame = {
        "event_type": "book",
        "asset_id": TOKENS[0],
        "market": MARKET,
        "bids": bids,
        "asks": asks,
        "timestamp": "1790908667676",
        "hash": f"{RNG.getrandbits(160):040x}",
        "tick_size": "0.01",
        "last_trade_price": "0.50",
    }
    return json.dumps(frame).encode()


# --- the dict-based conversion an orjson/json pipeline would need ---------------------------

_PRICE = attrgetter("price")


def _opt(value: Any) -> Decimal | None:
    return opt_dec(value)


def _level(price: str, size: str) -> Level:
    level = Level(Decimal(price), Decimal(size))
    check_level(level.price, level.size)  # same validation as the msgspec path: equal work
    return level


def _change(item: dict[str, Any]) -> LevelChange:
    change = LevelChange(item["side"], Decimal(item["price"]), Decimal(item["size"]))
    check_level(change.price, change.size)
    return change


def dict_to_events(obj: dict[str, Any], ts: int) -> list[Event]:
    kind = obj["event_type"]
    if kind == "price_change":
        groups: dict[str, list[LevelChange]] = {}
        last: dict[str, dict[str, Any]] = {}
        for item in obj["price_changes"]:
            groups.setdefault(item["asset_id"], []).append(_change(item))
            last[item["asset_id"]] = item
        return [
            PriceChange(
                asset_id=asset,
                market=obj["market"],
                changes=tuple(changes),
                best_bid=_opt(last[asset].get("best_bid")),
                best_ask=_opt(last[asset].get("best_ask")),
                ts_event_ms=int(obj["timestamp"]),
                ts_recv_ns=ts,
            )
            for asset, changes in groups.items()
        ]
    if kind == "book":
        bids = sorted((_level(lv["price"], lv["size"]) for lv in obj["bids"]), key=_PRICE, reverse=True)
        asks = sorted((_level(lv["price"], lv["size"]) for lv in obj["asks"]), key=_PRICE)
        return [
            BookSnapshot(
                asset_id=obj["asset_id"],
                market=obj["market"],
                bids=tuple(bids),
                asks=tuple(asks),
                hash=obj.get("hash", ""),
                tick_size=_opt(obj.get("tick_size")),
                last_trade_price=_opt(obj.get("last_trade_price")),
                ts_event_ms=int(obj["timestamp"]),
                ts_recv_ns=ts,
            )
        ]
    return []


def rate(fn: Callable[[bytes], object], frames: list[bytes], min_time_s: float = 0.2) -> float:
    """Messages per second of ``fn`` over ``frames`` in one run of at least ``min_time_s``."""
    count = 0
    start = time.perf_counter()
    while True:
        for frame in frames:
            fn(frame)
        count += len(frames)
        elapsed = time.perf_counter() - start
        if elapsed >= min_time_s:
            return count / elapsed


def best_rates(
    pipelines: dict[str, Callable[[bytes], object]], frames: list[bytes], rounds: int = 7
) -> dict[str, float]:
    """Best rate per pipeline over interleaved rounds, so a noisy (shared) machine biases none of them."""
    best = dict.fromkeys(pipelines, 0.0)
    for _ in range(rounds):
        for name, fn in pipelines.items():
            best[name] = max(best[name], rate(fn, frames))
    return best


def main() -> None:
    typed = msgspec.json.Decoder(schemas.WireMarketMessage | list[schemas.WireMarketMessage])
    kinds = {
        "price_change (2 changes)": [price_change_frame() for _ in range(200)],
        "book (40 levels)": [book_frame(40) for _ in range(50)],
        "book (100 levels)": [book_frame(100) for _ in range(20)],
    }
    decoders: dict[str, tuple[Callable[[bytes], object], Callable[[bytes], object]]] = {
        "msgspec typed": (typed.decode, lambda b: parse_market_frame(b, 1)),
        "stdlib json": (json.loads, lambda b: dict_to_events(json.loads(b), 1)),
    }
    if orjson is not None:
        loads = orjson.loads
        decoders["orjson"] = (loads, lambda b: dict_to_events(loads(b), 1))
    # Sanity: all pipelines produce the same events.
    for frames in kinds.values():
        for frame in frames[:5]:
            reference = parse_market_frame(frame, 1).events
            assert dict_to_events(json.loads(frame), 1) == reference

    print(f"{'frame kind':<26} {'decoder':<15} {'decode msg/s':>14} {'to events msg/s':>17}")
    for kind, frames in kinds.items():
        decode = best_rates({name: pair[0] for name, pair in decoders.items()}, frames)
        to_events = best_rates({name: pair[1] for name, pair in decoders.items()}, frames)
        results = {name: (decode[name], to_events[name]) for name in decoders}
        for name, (dec, ev) in results.items():
            print(f"{kind:<26} {name:<15} {dec:>14,.0f} {ev:>17,.0f}")
        base = results["msgspec typed"]
        for name, (dec, ev) in results.items():
            if name != "msgspec typed":
                print(f"{'':<26} msgspec / {name:<9} decode x{base[0] / dec:.2f}   to events x{base[1] / ev:.2f}")
    if orjson is None:
        print("(orjson not installed: `pip install orjson` to include it)")


if __name__ == "__main__":
    main()
