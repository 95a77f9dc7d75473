"""Repeating move alerts through AgentService (real SQLite, BookStore, EventRouter): reference kept across restart."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from polymarket_realtime.agents.models import AgentView
from polymarket_realtime.model.events import Event
from tests.integration._paper_kit import YES, Kit, kit, snapshot

pytestmark = pytest.mark.anyio


def _mid(mid_cents: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    return [(f"0.{mid_cents - 1:02d}", "100")], [(f"0.{mid_cents + 1:02d}", "100")]


async def test_repeating_move_alert_measures_from_its_last_firing_across_a_restart(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        await k.push(snapshot(YES, *_mid(50)))
        view = await k.agents.start_agent("price_alert", {"token_id": YES, "move": "0.02", "repeat": True})
        aid = view.agent_id
        assert view.stats["reference"] == "0.50"  # the live mid when start_agent ran

        async def mid(cents: int) -> None:
            await k.push(snapshot(YES, *_mid(cents)))
            await k.settled()

        await mid(51)
        assert k.agents.view(aid).stats["fired"] == 0
        await mid(53)  # 3 cents up from 0.50: fires, and the next move is measured from 0.53
        assert k.agents.view(aid).stats["fired"] == 1 and k.agents.view(aid).stats["reference"] == "0.53"
        await k.agents.stop_agent(aid)
        await mid(40)  # while stopped: not seen
        restarted = await k.agents.restart_agent(aid, "again")
        assert restarted.stats["reference"] == "0.53"  # kept from memory, not replaced by the book now
        await mid(52)  # 1 cent from 0.53
        assert k.agents.view(aid).stats["fired"] == 1
        await mid(51)  # 2 cents down from 0.53
        assert k.agents.view(aid).stats["fired"] == 2
        alerts = await k.agents.alerts(aid)
        assert [str(a.price) for a in alerts] == ["0.51", "0.53"]  # newest first
        assert "moved down 0.02 (threshold 0.02) from 0.53" in alerts[0].message
        assert k.agents.view(aid).state == "running"


class _SnapshotOnSubscribe:
    """The feed's subscribe as seen from the agent service: the first book arrives while it is awaited."""

    def __init__(self, k: Kit, event: Event) -> None:
        self.k, self.event = k, event

    async def subscribe_assets(self, asset_ids: list[str]) -> None:
        await self.k.push(self.event)  # after the agent is constructed, before subscribe_assets returns

    async def unsubscribe_assets(self, asset_ids: list[str]) -> None:
        return None

    def asset_feed_state(self, asset_id: str) -> str:
        return "subscribed"

    async def get_market(self, ref: str) -> None:
        """As the market lookup: the token is known (on Gamma), so start_agent admits it."""


async def test_a_snapshot_arriving_while_the_agent_subscribes_is_the_move_reference(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        assert k.books.get(YES) is None  # a token nobody streamed yet: nothing to read at construction
        k.agents.feed = k.agents.markets = _SnapshotOnSubscribe(k, snapshot(YES, *_mid(50)))  # type: ignore[assignment]
        k.agents.book_warmup_s = 5.0
        view = await k.agents.start_agent("price_alert", {"token_id": YES, "move": "0.02"})
        aid = view.agent_id
        assert view.stats["reference"] == "0.50"  # the snapshot that landed during the subscribe
        await k.settled()
        await k.push(snapshot(YES, *_mid(52)))  # 2 cents from 0.50
        await k.until(lambda: k.agents.view(aid).state == "stopped")
        assert k.agents.view(aid).stats["fired"] == 1
        alerts = await k.agents.alerts(aid)
        assert [str(a.price) for a in alerts] == ["0.52"]
        assert "moved up 0.02 (threshold 0.02) from 0.50" in alerts[0].message


class _BookDuringWarmup(_SnapshotOnSubscribe):
    """The first book arrives only after subscribe_assets returned, while start_agent waits for it."""

    def __init__(self, k: Kit, event: Event) -> None:
        super().__init__(k, event)
        self.subscribed = anyio.Event()

    async def subscribe_assets(self, asset_ids: list[str]) -> None:
        self.subscribed.set()


async def test_start_agent_answers_with_the_reference_from_a_book_that_arrived_during_warm_up(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        feed = _BookDuringWarmup(k, snapshot(YES, *_mid(50)))
        k.agents.feed = k.agents.markets = feed  # type: ignore[assignment]
        k.agents.book_warmup_s = 5.0
        views: list[AgentView] = []
        async with anyio.create_task_group() as tg:

            async def start() -> None:
                views.append(await k.agents.start_agent("price_alert", {"token_id": YES, "move": "0.02"}))

            tg.start_soon(start)
            with anyio.fail_after(10):
                await feed.subscribed.wait()
            await anyio.wait_all_tasks_blocked()  # the agent has started; start_agent awaits the warm-up
            assert k.books.get(YES) is None
            await k.push(feed.event)
        (view,) = views
        assert view.warmup is not None and view.warmup.tokens == {YES: "ready"}
        assert view.stats["reference"] == "0.50"  # the answer is taken after the warm-up, not before it
