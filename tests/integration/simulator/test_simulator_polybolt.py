"""The simulated PolyBolt server speaks the venue's rules (raw websockets client, no feed code)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from polymarket_realtime.simulator import Simulator, SimulatorConfig
from polymarket_realtime.venues.polymarket import polybolt as pb

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def sim() -> AsyncIterator[Simulator]:
    config = SimulatorConfig(
        seed=9, markets=1, rate_per_s=0, rtds_rate_per_s=0, resolve_after_s=None, polybolt_rate_per_s=0
    )
    async with Simulator(config) as s:
        yield s


async def recv(ws: ClientConnection) -> dict[str, Any]:
    with anyio.fail_after(5):
        answer: dict[str, Any] = json.loads(await ws.recv())
        return answer


async def authed(s: Simulator, ws: ClientConnection) -> None:
    cred = s.credentials._issue("0x" + "ef" * 20, 0)
    await ws.send(pb.auth_frame("a", cred.api_key, cred.secret, cred.passphrase))
    assert await recv(ws) == {"op": "authed", "rid": "a"}


async def closed_code(ws: ClientConnection) -> int | None:
    with anyio.fail_after(5):
        try:
            while True:
                await ws.recv()
        except ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else None


async def test_auth_acks_snapshot_then_live_with_dense_seq() -> None:
    async with sim() as s, websockets.connect(s.polybolt_url) as ws:
        await ws.send(pb.subscribe_frame("early", ["crypto:btcusd"]))
        assert await recv(ws) == {"op": "error", "code": "auth_required", "channel": "price.crypto", "rid": "early"}
        await ws.send(pb.auth_frame("bad", "nope", "nope", "nope"))
        assert await recv(ws) == {"op": "error", "code": "auth_invalid", "rid": "bad"}
        await authed(s, ws)
        await ws.send(pb.subscribe_frame("s1", ["crypto:btcusd", "equity:aapl:pyth"]))
        got = [await recv(ws) for _ in range(4)]
        assert {"op": "subscribed", "channel": "price.crypto", "rid": "s1"} in got
        assert {"op": "subscribed", "channel": "price.equity", "rid": "s1", "provider": "pyth"} in got
        snapshots = [m for m in got if m.get("snapshot")]
        assert [m["seq"] for m in snapshots] == [1, 1]  # per channel
        await ws.send(pb.subscribe_frame("dup", ["crypto:btcusd"]))
        assert await recv(ws) == {"op": "subscribed", "channel": "price.crypto", "rid": "dup"}  # no new snapshot
        s.polybolt.publish("crypto", "btcusd", "65000.25")
        live = await recv(ws)
        assert live["seq"] == 2 and live["payload"]["full_accuracy_value"] == "65000.25000000"
        await ws.send(pb.ping_frame("p"))
        assert await recv(ws) == {"op": "pong", "rid": "p"}
        item = {"channel": "price.crypto", "filter": {"symbol": "nope"}}
        await ws.send(json.dumps({"op": "subscribe", "rid": "f", "subscriptions": [item]}))
        assert (await recv(ws))["code"] == "bad_filter"


async def test_65th_subscription_is_refused_and_closed_4008() -> None:
    async with sim() as s, websockets.connect(s.polybolt_url) as ws:
        await authed(s, ws)
        keys = [f"equity:{sym}" for sym in pb.SYMBOLS["equity"]] + [f"crypto:{sym}" for sym in pb.SYMBOLS["crypto"]]
        keys += [f"crypto_twap:{sym}" for sym in pb.SYMBOLS["crypto_twap"]]
        keys += [f"equity:{sym}:pyth" for sym in pb.SYMBOLS["equity"][:17]]
        assert len(keys) == 64
        await ws.send(pb.subscribe_frame("all", keys))
        await s.wait_until(lambda: len(s.polybolt.subscriptions()[0]) == 64)
        await ws.send(pb.subscribe_frame("one-more", ["equity_twap:eurusd"]))
        assert await closed_code(ws) == 4008


async def test_more_than_20_subscribe_frames_a_second_is_closed_4008() -> None:
    async with sim() as s, websockets.connect(s.polybolt_url) as ws:
        await authed(s, ws)
        for n in range(21):
            await ws.send(pb.subscribe_frame(f"r{n}", ["crypto:btcusd"]))
        assert await closed_code(ws) == 4008


async def test_ninth_auth_frame_and_oversize_frames_are_closed_4008() -> None:
    async with sim() as s:
        async with websockets.connect(s.polybolt_url) as ws:
            for n in range(9):
                await ws.send(pb.auth_frame(f"a{n}", "k", "s", "p"))
            assert await closed_code(ws) == 4008
        async with websockets.connect(s.polybolt_url) as ws:
            await ws.send(json.dumps({"op": "ping", "pad": "x" * pb.MAX_FRAME_BYTES}))
            assert await closed_code(ws) == 4008


async def test_upgrade_refused_with_retry_after() -> None:
    async with sim() as s:
        s.polybolt.faults.refuse_upgrades = 1
        s.polybolt.faults.refuse_status = 503
        s.polybolt.faults.retry_after_s = 4
        with pytest.raises(InvalidStatus) as info:
            await websockets.connect(s.polybolt_url)
        assert info.value.response.status_code == 503 and info.value.response.headers["Retry-After"] == "4"
        async with websockets.connect(s.polybolt_url):  # only the first one was refused
            pass
