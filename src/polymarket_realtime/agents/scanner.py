"""``market_scanner``: rank subscribed tokens by spread, depth, momentum and volatility.

Config: ``token_ids`` (default: every token with a live book, i.e. everything subscribed),
``preset`` (a named weight preset, default ``balanced``) or ``weights`` (explicit), ``window``
(mid observations kept per token, default 50), ``depth_levels`` (default 5), ``top_n`` (default 10).

Scoring, per token with a live two-sided book:

* spread: ``best_ask - best_bid``; a tighter spread scores higher;
* depth: USD resting within ``depth_levels`` levels on both sides;
* momentum: ``|mid_now - mid_oldest|`` over the window (how much it is moving);
* volatility: standard deviation of successive mid changes over the window.

Each metric is min-max normalized across the scanned tokens to [0, 1] (spread inverted), and the score
is the weighted sum with the preset's weights (negative weights penalize). Scores are rankings, not
money, so they are floats. The leader change is logged.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from ..errors import InvalidInputError
from ..model.events import Event
from .base import Agent, check_keys, config_int, config_str, mid_of

__all__ = ["BUILTIN_PRESETS", "METRICS", "MarketScannerAgent", "score_tokens", "validate_weights"]

METRICS: Final = ("spread", "depth", "momentum", "volatility")
BUILTIN_PRESETS: Final[dict[str, dict[str, float]]] = {
    "balanced": {"spread": 1.0, "depth": 1.0, "momentum": 1.0, "volatility": 1.0},
    "liquidity": {"spread": 2.0, "depth": 2.0, "momentum": 0.0, "volatility": -1.0},
    "momentum": {"spread": 0.5, "depth": 0.5, "momentum": 2.0, "volatility": 0.5},
    "quiet": {"spread": 1.0, "depth": 1.0, "momentum": -1.0, "volatility": -2.0},
}


def validate_weights(raw: object) -> dict[str, float]:
    if not isinstance(raw, Mapping) or not raw:
        raise InvalidInputError(f"weights must be an object with some of {', '.join(METRICS)} -> number.")
    weights: dict[str, float] = {}
    for key, value in raw.items():
        if key not in METRICS:
            raise InvalidInputError(f"unknown weight {key!r}; metrics are {', '.join(METRICS)}.")
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or abs(value) > 100
        ):
            raise InvalidInputError(f"weight {key} must be a number in [-100, 100], not {value!r}.")
        weights[key] = float(value)
    return {m: weights.get(m, 0.0) for m in METRICS}


def _norm(values: dict[str, float]) -> dict[str, float]:
    if not values:
        return {}
    lo, hi = min(values.values()), max(values.values())
    if hi == lo:
        return dict.fromkeys(values, 0.5)
    return {k: (v - lo) / (hi - lo) for k, v in values.items()}


def score_tokens(
    mids: Mapping[str, list[Decimal]], books: Mapping[str, Any], weights: Mapping[str, float], depth_levels: int
) -> list[dict[str, Any]]:
    """Ranked rows ``{token_id, score, spread, depth_usd, momentum, volatility}``, best first."""
    raw: dict[str, dict[str, float]] = {m: {} for m in METRICS}
    shown: dict[str, dict[str, str | None]] = {}
    for token, book in books.items():
        bid, ask = book.best_bid(), book.best_ask()
        if bid is None or ask is None:
            continue
        depth = sum((lv.price * lv.size for lv in book.bids(depth_levels) + book.asks(depth_levels)), Decimal(0))
        series = mids.get(token) or [(bid + ask) / 2]
        momentum = abs(series[-1] - series[0])
        diffs = [float(b - a) for a, b in itertools.pairwise(series)]
        mean = sum(diffs) / len(diffs) if diffs else 0.0
        vol = math.sqrt(sum((d - mean) ** 2 for d in diffs) / len(diffs)) if diffs else 0.0
        raw["spread"][token] = -float(ask - bid)  # tighter is better
        raw["depth"][token] = float(depth)
        raw["momentum"][token] = float(momentum)
        raw["volatility"][token] = vol
        shown[token] = {
            "spread": str(ask - bid),
            "depth_usd": str(depth.quantize(Decimal("0.01"))),
            "momentum": str(momentum),
            "volatility": f"{vol:.6f}",
            "mid": str((bid + ask) / 2),
        }
    normed = {m: _norm(raw[m]) for m in METRICS}
    scores = {t: round(sum(weights.get(m, 0.0) * normed[m][t] for m in METRICS), 6) for t in shown}
    ranked = sorted(shown, key=lambda t: (-scores[t], t))
    return [{"token_id": t, "score": scores[t], **shown[t]} for t in ranked]


class MarketScannerAgent(Agent):
    kind = "market_scanner"
    description = "Ranks subscribed markets by spread, depth, momentum and volatility with named weight presets."

    @classmethod
    def parse_config(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        check_keys(raw, ("token_ids", "window", "depth_levels", "top_n", "weights", "preset"))
        tokens = raw.get("token_ids", [])
        if not isinstance(tokens, list) or not all(isinstance(t, str) and t.isdigit() for t in tokens):
            raise InvalidInputError("config.token_ids must be a list of token ids (decimal strings), or omitted.")
        config: dict[str, Any] = {
            "token_ids": tokens,
            "window": config_int(raw, "window", default=50, low=2, high=1000),
            "depth_levels": config_int(raw, "depth_levels", default=5, low=1, high=50),
            "top_n": config_int(raw, "top_n", default=10, low=1, high=100),
        }
        if "weights" in raw:
            config["weights"] = validate_weights(raw["weights"])
            config["preset"] = "custom"
        else:
            config["preset"] = config_str(raw, "preset", default="balanced")
        return config

    def token_ids(self) -> list[str]:
        return list(self.config["token_ids"])

    @property
    def weights(self) -> dict[str, float]:
        return dict(self.config.get("weights") or BUILTIN_PRESETS["balanced"])

    def _scanned(self) -> list[str]:
        return list(self.config["token_ids"]) or list(self.ctx.books.asset_ids())

    async def on_start(self) -> None:
        self._mids: dict[str, deque[Decimal]] = {}
        self._leader: str | None = self.memory.get("leader")
        await self.ctx.log("info", f"scanning with weights {self.weights} (preset {self.config['preset']})")

    async def on_event(self, event: Event) -> None:
        token = getattr(event, "asset_id", None)
        if token is None or (self.config["token_ids"] and token not in self.config["token_ids"]):
            return
        mid = mid_of(event, self.ctx.books)
        if mid is None:
            return
        series = self._mids.setdefault(token, deque(maxlen=self.config["window"]))
        if not series or series[-1] != mid:
            series.append(mid)
        self.memory["observations"] = int(self.memory.get("observations", 0)) + 1
        ranking = self.ranking(limit=1)
        leader = ranking[0]["token_id"] if ranking else None
        if leader != self._leader:
            self._leader = leader
            self.memory["leader"] = leader
            self.dirty = True
            if leader is not None:
                await self.ctx.log("info", f"new leader {leader} score {ranking[0]['score']}")

    def ranking(self, limit: int | None = None) -> list[dict[str, Any]]:
        books = {}
        for token in self._scanned():
            book = self.ctx.books.get(token)
            if book is not None and not book.stale:
                books[token] = book
        mids = {t: list(s) for t, s in getattr(self, "_mids", {}).items()}
        rows = score_tokens(mids, books, self.weights, self.config["depth_levels"])
        return rows[: limit or self.config["top_n"]]

    def stats(self) -> dict[str, Any]:
        return {
            "preset": self.config["preset"],
            "weights": self.weights,
            "observations": int(self.memory.get("observations", 0)),
            "ranking": self.ranking(),
        }
