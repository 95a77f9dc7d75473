"""Both feed backends implement every member of the ``FeedBackend`` contract (callers never probe)."""

from __future__ import annotations

import anyio
import redis.asyncio as aioredis

from polymarket_realtime.config import Settings
from polymarket_realtime.feed.books import BookStore
from polymarket_realtime.feed.contract import FeedBackend
from polymarket_realtime.feed.manager import WebSocketManager
from polymarket_realtime.redisbus.consumer import RedisFeedBackend
from polymarket_realtime.routing.router import EventRouter
from polymarket_realtime.venues.polymarket.rest import ClobRestClient

_MEMBERS = [
    name for name in dir(FeedBackend) if not name.startswith("_") and name not in {"stats", "receives_raw_frames"}
] + ["stats", "receives_raw_frames", "link_up"]


def _redis_backend() -> RedisFeedBackend:
    settings = Settings()
    # Building the client opens no socket; nothing here talks to Redis.
    client = aioredis.Redis.from_url("redis://127.0.0.1:1")
    return RedisFeedBackend(settings, books=BookStore(), router=EventRouter(), client=client)


def test_both_backends_have_every_contract_member() -> None:
    settings = Settings()
    manager = WebSocketManager(settings, books=BookStore(), router=EventRouter(), clob_rest=ClobRestClient(settings))
    redis_backend = _redis_backend()
    assert "user_channel_state" in _MEMBERS and "refresh_status" in _MEMBERS
    for backend in (manager, redis_backend):
        missing = [m for m in _MEMBERS if not hasattr(backend, m)]
        assert missing == [], f"{type(backend).__name__} lacks {missing}"
        assert isinstance(backend, FeedBackend)


def test_redis_backend_answers_user_queries_explicitly() -> None:
    backend = _redis_backend()
    assert backend.user_auth_problem() is None
    assert backend.user_channel_state() == ("active", "")
    assert backend.asset_feed_state("123") == "subscribed, no book received yet"
    assert backend.link_up is False  # not connected yet

    async def main() -> None:
        with anyio.fail_after(1):
            await backend.wait_user_first_attempt(5.0)  # returns at once: no user socket here
        assert await backend.refresh_status() is False  # link down: cached values kept

    anyio.run(main)


def test_manager_link_is_always_up_and_refresh_is_a_no_op() -> None:
    settings = Settings()
    manager = WebSocketManager(settings, books=BookStore(), router=EventRouter(), clob_rest=ClobRestClient(settings))
    assert manager.link_up is True
    assert manager.user_channel_state() == ("connecting", "")
    assert anyio.run(manager.refresh_status) is True
