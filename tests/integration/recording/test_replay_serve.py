"""``serve --replay FILE --speed max``: the shipped recording feeds the real server over stdio."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from websockets.asyncio.client import connect

from polymarket_realtime.config import Settings
from polymarket_realtime.model.markets import MarketInfo, Outcome
from polymarket_realtime.recording.format import RecordingHeader, encode_frame_line
from polymarket_realtime.recording.reader import RecordingReader
from polymarket_realtime.recording.writer import RecordingWriter
from polymarket_realtime.simulator.replay import replay_simulator
from polymarket_realtime.venues.polymarket.gamma import GammaClient

FIXTURE = Path(__file__).parents[2] / "fixtures" / "recordings" / "sim_seed7.jsonl.gz"


async def _call(client: Client, name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    result = await client.call_tool(name, args or {})
    assert not result.is_error, f"{name}: {result.content}"
    assert result.structured_content is not None
    return dict(result.structured_content)


@pytest.mark.anyio
async def test_serve_replay_feeds_tools_over_stdio(tmp_path: Path) -> None:
    header = RecordingReader(FIXTURE).read_header()
    token = header.token_ids[0]
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "polymarket_realtime", "serve", "--replay", str(FIXTURE), "--speed", "max", "--sim-seed", "7"],
        env={"POLYMARKET_MCP_DATA_DIR": str(tmp_path / "data"), "POLYMARKET_MCP_TOOLSETS": "market,realtime"},
        cwd=str(tmp_path),
    )
    with anyio.fail_after(60):
        async with Client(params, mode="legacy", read_timeout_seconds=30) as client:
            # Gamma comes from the simulator model with the recording's seed: the token is a known market.
            market = await _call(client, "get_market", {"market": token})
            assert token in [o["token_id"] for o in market["outcomes"]]
            sub = await _call(client, "subscribe_orderbook_updates", {"token_ids": [token], "depth": 2})
            cursor, seen = 0, []
            while not any(e["type"] == "book" for e in seen) or len(seen) < 20:
                page = await _call(
                    client, "get_events", {"subscription_id": sub["subscription_id"], "after_seq": cursor, "wait_s": 5}
                )
                seen.extend(page["events"])
                cursor = page["next_seq"]
            assert {e["token_id"] for e in seen if e["type"] != "feed_status"} == {token}
            book = await _call(client, "get_order_book", {"token_id": token, "depth": 3})
            assert book["bids"] and book["asks"]


@pytest.mark.anyio
async def test_serve_replay_of_a_missing_or_corrupt_file_fails_with_one_line(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.jsonl.gz"
    corrupt.write_bytes(b"not gzip at all")
    cases = [(tmp_path / "missing.jsonl.gz", "cannot open recording"), (corrupt, "corrupt gzip member")]
    for path, reason in cases:
        with anyio.fail_after(60):
            done = await anyio.run_process(
                [sys.executable, "-m", "polymarket_realtime", "serve", "--replay", str(path)],
                check=False,
                env={"POLYMARKET_MCP_DATA_DIR": str(tmp_path / "data"), "PATH": ""},
            )
        err = done.stderr.decode()
        assert done.returncode == 2 and done.stdout == b""  # stdout is the MCP pipe: nothing there
        assert err.count("\n") == 1 and "Traceback" not in err
        assert reason in err and str(path) in err and "byte offset 0" in err


def _write(tmp_path: Path, header: RecordingHeader, frames: list[tuple[str, str]]) -> Path:
    writer = RecordingWriter(tmp_path, header, fsync=False)
    writer.write_lines([encode_frame_line(ch, 1_000_000_000 * (i + 1), text) for i, (ch, text) in enumerate(frames)])
    writer.close()
    return writer.path


@pytest.mark.anyio
async def test_rtds_only_recording_replays_through_the_sockets(tmp_path: Path) -> None:
    trades = [
        json.dumps({"topic": "activity", "type": "trades", "timestamp": i, "payload": {"n": i}}) for i in range(5)
    ]
    header = RecordingHeader(recording_id="rtds", created_ns=1, rtds=[{"topic": "activity", "type": "trades"}])
    path = _write(tmp_path, header, [("rtds", t) for t in trades])
    async with replay_simulator(path, speed=None) as sim, connect(sim.rtds_url) as ws:
        subscribe = {"action": "subscribe", "subscriptions": [{"topic": "activity", "type": "trades"}]}
        await ws.send(json.dumps(subscribe))
        received: list[str] = []
        with anyio.fail_after(10):
            while len(received) < len(trades):
                message = await ws.recv()
                assert isinstance(message, str)
                received.append(message)
    # Every recorded frame, in order (the simulator adds the venue's connection_id, as live RTDS does).
    decoded = [json.loads(m) for m in received]
    assert [{k: v for k, v in d.items() if k != "connection_id"} for d in decoded] == [json.loads(t) for t in trades]


@pytest.mark.anyio
async def test_replay_serves_the_recorded_market_metadata_through_gamma(tmp_path: Path) -> None:
    yes, no = "7" * 70, "8" * 70
    condition = "0x" + "ab" * 32
    info = MarketInfo(
        question="Will the recorded market be served?",
        slug="recorded-market-served",
        condition_id=condition,
        market_id="424242",
        outcomes=(Outcome(name="Yes", token_id=yes, price=Decimal("0.6")), Outcome(name="No", token_id=no)),
        tick_size=Decimal("0.001"),
        event_slug="recorded-event",
        event_id="99",
    )
    header = RecordingHeader(
        recording_id="meta", created_ns=1, token_ids=[yes, no], market_ids=[condition], markets=[info.to_dict()]
    )
    path = _write(tmp_path, header, [("market", json.dumps({"event_type": "book", "asset_id": yes, "bids": []}))])
    async with replay_simulator(path, speed=None) as sim, GammaClient(Settings(gamma_url=sim.rest_url)) as gamma:
        for ref in ("recorded-market-served", condition, yes, "424242"):
            market = await gamma.get_market(ref)
            assert (market.question, market.condition_id, market.token_ids) == (info.question, condition, [yes, no])
            assert market.tick_size == Decimal("0.001") and market.outcomes[0].price == Decimal("0.6")
            assert market.event_slug == "recorded-event"
        found = await gamma.search("recorded market served")
        assert [m.slug for m in found] == ["recorded-market-served"]
        # Anything else still comes from the simulator's model.
        assert (await gamma.get_market(sim.model.markets[0].slug)).slug == sim.model.markets[0].slug


@pytest.mark.anyio
async def test_market_subscription_without_initial_dump_starts_the_replay(tmp_path: Path) -> None:
    token = "5" * 70
    changes = [
        json.dumps({"event_type": "last_trade_price", "asset_id": token, "price": f"0.{50 + i}", "size": "1"})
        for i in range(3)
    ]
    path = _write(
        tmp_path,
        RecordingHeader(recording_id="nodump", created_ns=1, token_ids=[token]),
        [("market", c) for c in changes],
    )
    async with replay_simulator(path, speed=None) as sim, connect(f"{sim.ws_url}/market") as ws:
        await ws.send(json.dumps({"assets_ids": [token], "type": "market", "initial_dump": False}))
        received: list[str] = []
        with anyio.fail_after(10):
            while len(received) < len(changes):
                message = await ws.recv()
                assert isinstance(message, str)
                received.append(message)
    assert [json.loads(m)["price"] for m in received] == ["0.50", "0.51", "0.52"]
