"""Shared helpers for the paper/agents service tests: real SQLite, real BookStore, real EventRouter."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from decimal import Decimal as D
from pathlib import Path

import anyio

from polymarket_realtime.agents.service import AgentService
from polymarket_realtime.agents.system import SystemService
from polymarket_realtime.clock import SYSTEM_CLOCK, Clock
from polymarket_realtime.feed.books import BookStore
from polymarket_realtime.model.events import BookSnapshot, Event, LastTrade, Level, LevelChange, PriceChange
from polymarket_realtime.paper.service import MarketLookup, PaperService
from polymarket_realtime.routing.router import EventRouter
from polymarket_realtime.storage.activity import ActivityFeed
from polymarket_realtime.storage.db import Database

YES, NO, MARKET = "1001", "1002", "0x" + "ab" * 32


def snapshot(token: str, bids: list[tuple[str, str]], asks: list[tuple[str, str]], tick: str = "0.01") -> BookSnapshot:
    return BookSnapshot(
        asset_id=token,
        market=MARKET,
        bids=tuple(Level(D(p), D(s)) for p, s in bids),
        asks=tuple(Level(D(p), D(s)) for p, s in asks),
        tick_size=D(tick),
        min_order_size=D("5"),
        ts_recv_ns=1,
    )


def change(token: str, *levels: tuple[str, str, str]) -> PriceChange:
    return PriceChange(
        asset_id=token, market=MARKET, changes=tuple(LevelChange(s, D(p), D(z)) for s, p, z in levels), ts_recv_ns=2
    )  # type: ignore[arg-type]


def trade(token: str, price: str, size: str) -> LastTrade:
    return LastTrade(asset_id=token, market=MARKET, price=D(price), size=D(size), side="SELL", ts_recv_ns=3)


@dataclass
class Kit:
    db: Database
    activity: ActivityFeed
    books: BookStore
    router: EventRouter
    paper: PaperService
    agents: AgentService
    system: SystemService

    async def push(self, event: Event) -> None:
        """What the feed does: apply to books, then route (sinks get it); then let consumers run."""
        self.books.apply(event)
        self.router.route(event)

    async def until(self, predicate: Callable[[], bool], within_s: float = 10.0) -> None:
        """Wait for ``predicate()``, re-checked whenever the paper or agent service reports a change."""
        with anyio.fail_after(within_s):
            while True:
                # Taken before the check: a change after it sets one of these events.
                wakes = (self.paper.changed.next(), self.agents.changed.next())
                if predicate():
                    return
                await _first(wakes)

    async def settled(self) -> None:
        """Wait until every sink is drained and no consumer is handling an event (consumers caught up)."""
        await self.until(lambda: self.paper.idle and self.agents.idle and not any(len(s) for s in self.router.sinks()))


async def _first(events: tuple[anyio.Event, ...]) -> None:
    """Return once any of ``events`` is set."""
    async with anyio.create_task_group() as tg:

        async def wait_one(event: anyio.Event) -> None:
            await event.wait()
            tg.cancel_scope.cancel()

        for event in events:
            tg.start_soon(wait_one, event)


class ManualClock:
    """Wall-clock time the test moves by hand (the only thing these tests fake); monotonic is real."""

    def __init__(self, ns: int = 1_800_000_000 * 10**9) -> None:
        self.ns = ns

    def monotonic(self) -> float:
        return SYSTEM_CLOCK.monotonic()

    def time_ns(self) -> int:
        return self.ns

    def advance(self, seconds: float) -> None:
        self.ns += int(seconds * 10**9)


@contextlib.asynccontextmanager
async def kit(path: Path, *, clock: Clock = SYSTEM_CLOCK, markets: MarketLookup | None = None) -> AsyncIterator[Kit]:
    db = Database(path / "state.sqlite3").open()
    try:
        activity = ActivityFeed(db, clock=clock)
        books = BookStore()
        router = EventRouter(books)
        async with anyio.create_task_group() as tg:
            paper = PaperService(db, activity, books, markets=markets, clock=clock, resolution_poll_s=3600)
            await paper.start(tg, router=router)
            agents = AgentService(db, activity, books, router=router, paper=paper, markets=markets, clock=clock)
            await agents.start(tg)
            system = SystemService(db, activity, paper, agents, router=router, books=books)
            await system.load()
            yield Kit(db, activity, books, router, paper, agents, system)
            await agents.aclose()
            tg.cancel_scope.cancel()
    finally:
        db.close()
