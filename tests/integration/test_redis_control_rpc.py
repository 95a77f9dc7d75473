"""ControlRpc against a real redis-server: one execution per request, catch-up, errors carried back."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from polymarket_realtime.redisbus.client import connect_redis
from polymarket_realtime.redisbus.control_rpc import ControlRpc, NoOwnerError, RemoteError
from polymarket_realtime.redisbus.keys import Keys
from tests.redis_fixtures import RedisServer, redis_server

pytestmark = [pytest.mark.anyio, pytest.mark.redis]
__all__ = ["redis_server"]


async def test_a_request_runs_once_even_with_two_answering_servers_and_waits_for_a_late_owner(
    redis_server: RedisServer,
) -> None:
    client = connect_redis(redis_server.url, timeout_s=10.0)
    keys = Keys("rpc1:")
    runs: list[str] = []

    async def execute(op: str, args: dict[str, Any]) -> dict[str, Any]:
        runs.append(op)
        if op == "bad":
            raise RemoteError(409, "wrong_state", "session s1 is already paused")
        return {"echo": args}

    try:
        await client.set(keys.sessions_owner, "server@owner")
        caller = ControlRpc(client, keys, "server@viewer")
        answers: list[dict[str, Any]] = []
        done = anyio.Event()
        async with anyio.create_task_group() as tg:

            async def ask() -> None:
                answers.append(await caller.call("tool", {"n": 1}))
                done.set()

            tg.start_soon(ask)
            with anyio.fail_after(5):  # the request is in the stream before any owner reads it
                await client.xread({caller.requests_key: "0-0"}, block=5000)
            # Two servers that both believe they own sessions (a split-brain moment), started late.
            for name in ("server@owner", "server@other"):
                tg.start_soon(ControlRpc(client, keys, name).serve, execute, lambda: True)
            with anyio.fail_after(5):
                second = await caller.call("tool", {"n": 2})
                await done.wait()  # the request written before any owner read is answered too (catch-up)
            with pytest.raises(RemoteError) as refused:
                await caller.call("bad", {})
            tg.cancel_scope.cancel()
        assert answers == [{"echo": {"n": 1}}] and second == {"echo": {"n": 2}}
        assert runs.count("tool") == 2 and runs.count("bad") == 1
        assert (refused.value.status, refused.value.error) == (409, "wrong_state")
        assert not isinstance(refused.value, NoOwnerError)
    finally:
        await client.aclose()


async def test_no_lock_holder_is_no_owner_at_once(redis_server: RedisServer) -> None:
    client = connect_redis(redis_server.url, timeout_s=10.0)
    try:
        with anyio.fail_after(2), pytest.raises(NoOwnerError) as missing:
            await ControlRpc(client, Keys("rpc2:"), "server@viewer").call("tool", {})
    finally:
        await client.aclose()
    assert missing.value.status == 503 and "no server owns" in missing.value.detail
