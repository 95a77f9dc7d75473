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

from polymarket_realtime.simulator import Simulator
from polymarket_realtime.simulator.cli import add_arguments, run

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
                assert json.loads(text)["topic"] in ("crypto_prices", "comments")
        symbols = set()
        while len(symbols) < 2:  # filters are ignored: other symbols arrive too (clients filter locally)
            message = await _recv_json(ws)
            assert set(message) == {"topic", "type", "timestamp", "payload", "connection_id"}
            assert isinstance(message["timestamp"], int)
            if message["topic"] == "crypto_prices":
                payload = message["payload"]
                assert isinstance(payload["value"], float) and isinstance(payload["timestamp"], int)
                symbols.add(payload["symbol"])
        assert symbols <= {"btcusdt", "ethusdt", "solusdt", "xrpusdt"}

        simulator.publish([simulator.rtds.comment_frame()])
        while (message := await _recv_json(ws))["topic"] != "comments":
            pass
        assert message["type"] in ("comment_created", "reaction_created")
        assert message["payload"]["parentEntityType"] == "Event"
        assert str(message["payload"]["parentEntityID"]) in {m.event_id for m in simulator.model.markets}

        await ws.send(json.dumps({"action": "unsubscribe", "subscriptions": subs}))
        conn = simulator.observed.last("/")
        assert conn is not None
        await simulator.wait_until(lambda: not conn.topics)


async def test_rtds_equity_prices_carry_full_accuracy_value(simulator: Simulator) -> None:
    async with websockets.connect(simulator.rtds_url, max_queue=None) as ws:
        await ws.send(json.dumps({"action": "subscribe", "subscriptions": [{"topic": "equity_prices", "type": "*"}]}))
        conn = simulator.observed.last("/")
        assert conn is not None
        await simulator.wait_until(lambda: bool(conn.topics))
        message = await _recv_json(ws)
        assert message["topic"] == "equity_prices"
        payload = message["payload"]
        assert payload["symbol"] in ("AAPL", "TSLA") and isinstance(payload["full_accuracy_value"], str)


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
            while len(exports) < 5:
                buffer += await process.stdout.receive()
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.startswith(b"export "):
                        name, _, value = line.decode()[7:].partition("=")
                        exports[name] = value
        assert set(exports) == {
            "POLYMARKET_CLOB_WS_URL",
            "POLYMARKET_RTDS_WS_URL",
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
