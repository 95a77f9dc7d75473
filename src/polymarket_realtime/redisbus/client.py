"""The Redis client every shared-feed process opens (feed, MCP server, control room)."""

from __future__ import annotations

import redis.asyncio as aioredis

__all__ = ["connect_redis"]


def connect_redis(url: str, *, timeout_s: float = 5.0) -> aioredis.Redis:
    """A client with bounded socket timeouts (a stopped Redis must fail calls, not hang them)."""
    return aioredis.Redis.from_url(
        url,
        socket_connect_timeout=min(timeout_s, 2.0),
        socket_timeout=timeout_s,
        health_check_interval=0,
    )
