"""Simulator RTDS socket and the ``simulate`` command line."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from typing import Any

import anyio
import httpx2
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from polymarket_realtime.cli.simulate import add_arguments, run
from polymarket_realtime.simulator import Simulator

pytestmark = pytest.mark.anyio


async def _recv_json(ws: ClientConnection) -> Any:
    with anyio.fail_after(5):
        return json.loads(await ws.recv())


async def test_rtds_topics_ignore_filters_and_answer_ping(simulator: Simulator) -> None:
    async with websockets.connect(simulator.rtds_url, max_queue=None) as ws:
        subs = [
            {"topic": "crypto_prices", "type": "update", "filters": "btcusdt"},
            {"topic": "comments", "type": "*", "filters": '{"parentEntityID":1,"parentEntityType":"Event"}'},
        ]
        await ws.send(json.dumps({"action": "subscribe", "subscriptions": subs}))
        for ping in ("PING", "ping"):
            await ws.send(ping)
            while (text := await ws.recv()) != "PONG":
                assert json.loads(text)["topic"] == "comments"  # price topics are retired: nothing for them

        simulator.publish([simulator.rtds.comment_frame()])
        while (message := await _recv_json(ws))["topic"] != "comments":
            pass
        assert set(message) == {"topic", "type", "timestamp", "payload", "connection_id"}
        assert message["type"] in ("comment_created", "reaction_created")
        assert message["payload"]["parentEntityType"] == "Event"
        assert str(message["payload"]["parentEntityID"]) in {m.event_id for m in simulator.model.markets}

        await ws.send(json.dumps({"action": "unsubscribe", "subscriptions": subs}))
        conn = simulator.observed.last("/")
        assert conn is not None
        await simulator.wait_until(lambda: not conn.topics)


async def test_rtds_generates_no_price_topics(simulator: Simulator) -> None:
    """Reference prices live on PolyBolt now; the simulated RTDS generates none."""
    topics = {json.loads(simulator.rtds.next_frame().text)["topic"] for _ in range(200)}
    assert topics == {"comments"}
    assert all(json.loads(f.text)["topic"] == "comments" for f in simulator.rtds.poll(0.0) + simulator.rtds.poll(5.0))


async def test_cli_sends_a_fault_to_a_running_simulator(simulator: Simulator) -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--fault", "go_silent", "--control-url", simulator.rest_url])
    assert await anyio.to_thread.run_sync(run, args) == 0
    assert simulator.faults.silent
    bad = parser.parse_args(["--fault", "refuse_connections", "--control-url", simulator.rest_url])
    assert await anyio.to_thread.run_sync(run, bad) == 1  # 'seconds' is required for this one


async def test_cli_simulate_prints_exports_and_serves() -> None:
    command = [sys.executable, "-m", "polymarket_realtime", "simulate", "--rate", "5", "--markets", "2"]
    async with await anyio.open_process(command) as process:
        assert process.stdout is not None
        exports: dict[str, str] = {}
        buffer = b""
        with anyio.fail_after(20):
            while len(exports) < 6:
                buffer += await process.stdout.receive()
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.startswith(b"export "):
                        name, _, value = line.decode()[7:].partition("=")
                        exports[name] = value
        assert set(exports) == {
            "POLYMARKET_CLOB_WS_URL",
            "POLYMARKET_RTDS_WS_URL",
            "POLYMARKET_POLYBOLT_WS_URL",
            "POLYMARKET_SPORTS_WS_URL",
            "POLYMARKET_CLOB_URL",
            "POLYMARKET_GAMMA_URL",
        }
        async with httpx2.AsyncClient(base_url=exports["POLYMARKET_CLOB_URL"]) as client:
            state = (await client.get("/_sim/state")).json()
        assert state["markets"] == 2
        process.send_signal(signal.SIGTERM)
        with anyio.fail_after(10):
            assert await process.wait() == 0
