"""``/ws`` over a real socket: subscribe, snapshot, events with dense seq, replay, gap, ping, errors, drops."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from websockets.exceptions import ConnectionClosed

from polymarket_realtime.http.hub import Hub
from tests.integration._http_harness import recv, recv_until, send, serving

pytestmark = pytest.mark.anyio


async def _drain(ws: Any) -> None:
    while True:
        await ws.recv()


def _is(kind: str, channel: str) -> Any:
    return lambda m: m.get("type") == kind and m.get("channel") == channel


async def test_snapshot_then_events_with_dense_seq_and_replay(tmp_path: Path) -> None:
    async with serving(tmp_path) as h:
        token = h.market().token_ids[0]
        async with h.ws() as ws:
            await send(ws, {"type": "subscribe", "channels": ["sessions", "activity", "system", "agents"]})
            snaps: dict[str, dict[str, Any]] = {}
            with anyio.fail_after(10):
                while len(snaps) < 4:
                    message = await recv(ws)
                    if message["type"] == "snapshot":
                        snaps[message["channel"]] = message
            assert snaps["sessions"]["data"] == [] and snaps["agents"]["data"] == []
            assert snaps["system"]["data"]["switch"] == "running"
            activity_seq = snaps["activity"]["seq"]

            created = await h.ok("POST", "/api/sessions", {"name": "ws", "token_ids": [token]})
            sid = created["session_id"]
            seen: list[dict[str, Any]] = []
            with anyio.fail_after(10):
                while not (
                    any(_is("event", "sessions")(m) and m["data"]["session_id"] == sid for m in seen)
                    and any(_is("event", "activity")(m) and m["data"]["kind"] == "session_created" for m in seen)
                ):
                    seen.append(await recv(ws))
            assert "secret" not in str(seen).lower()
            entry = next(m for m in seen if _is("event", "activity")(m))
            assert entry["seq"] == activity_seq + 1 and entry["data"]["subject"] == sid
            assert entry["data"]["kind"] == "session_created"

            agent = await h.ok(
                "POST", "/api/agents", {"kind": "market_scanner", "config": {"token_ids": [token], "top_n": 1}}
            )
            pushed = await recv_until(
                ws, lambda m: _is("event", "agents")(m) and m["data"]["agent_id"] == agent["agent_id"]
            )
            assert pushed[-1]["data"]["state"] == "running"
            await h.ok("POST", f"/api/sessions/{sid}/pause")
            await h.ok("POST", f"/api/sessions/{sid}/resume")
            later = await recv_until(
                ws, lambda m: _is("event", "activity")(m) and m["data"]["kind"] == "session_resumed"
            )
            seqs = [m["seq"] for m in [*seen, *pushed, *later] if _is("event", "activity")(m)][1:]
            assert seqs == list(range(entry["seq"] + 1, entry["seq"] + 1 + len(seqs)))
            last_seen = seqs[-1]

            await send(ws, {"type": "ping"})
            pong = await recv_until(ws, lambda m: m["type"] == "pong")
            assert isinstance(pong[-1]["ts"], int)

        # Missed while away: replayed from the buffer, in order, without a snapshot.
        await h.ok("POST", f"/api/sessions/{sid}/pause")
        await h.ok("POST", f"/api/sessions/{sid}/stop")
        async with h.ws() as ws:
            await send(ws, {"type": "subscribe", "channels": ["activity"], "since": {"activity": last_seen - 1}})
            replayed = await recv_until(
                ws, lambda m: _is("event", "activity")(m) and m["data"]["kind"] == "session_stopped"
            )
            assert all(m["type"] == "event" for m in replayed)
            assert [m["seq"] for m in replayed] == list(range(last_seen, last_seen + len(replayed)))
            assert "session_paused" in [m["data"]["kind"] for m in replayed]


async def test_gap_when_since_is_older_than_the_buffer(tmp_path: Path) -> None:
    async with serving(tmp_path, hub=Hub(buffer_size=2)) as h:
        token = h.market().token_ids[0]
        created = await h.ok("POST", "/api/sessions", {"name": "gap", "token_ids": [token]})
        sid = created["session_id"]
        for action in ("pause", "resume", "pause", "resume"):
            await h.ok("POST", f"/api/sessions/{sid}/{action}")
        with anyio.fail_after(10):
            await h.room.hub.changed.wait_for(lambda: h.room.hub.channel("activity").seq >= 5, 10)
        async with h.ws() as ws:
            await send(ws, {"type": "subscribe", "channels": ["activity"], "since": {"activity": 1}})
            gap = await recv(ws)
            channel = h.room.hub.channel("activity")
            assert gap == {
                "type": "gap",
                "channel": "activity",
                "from_seq": 2,
                "to_seq": channel.oldest() - 1,
                "epoch": h.room.hub.epoch,
            }
            snapshot = await recv(ws)
            assert snapshot["type"] == "snapshot" and snapshot["seq"] == channel.seq
            assert [e["kind"] for e in snapshot["data"]][-1] == "session_resumed"
            # A seq from before a server restart (larger than ours) is a gap too, then a fresh snapshot.
            await send(ws, {"type": "subscribe", "channels": ["system"], "since": {"system": 10_000}})
            restarted = await recv(ws)
            assert restarted["type"] == "gap" and restarted["channel"] == "system"
            assert (await recv(ws))["type"] == "snapshot"


async def test_errors_keep_the_socket_open_and_auth_is_checked(tmp_path: Path) -> None:
    async with serving(tmp_path) as h:
        async with h.ws() as ws:
            await send(ws, "not json")
            assert (await recv(ws))["error"] == "bad_json"
            await send(ws, [1, 2])
            assert (await recv(ws))["error"] == "bad_message"
            await send(ws, {"type": "dance"})
            assert "unknown message type" in (await recv(ws))["detail"]
            await send(ws, {"type": "subscribe", "channels": ["bogus", "logs:ag-none", "market:0xabc"]})
            errors = [await recv(ws) for _ in range(3)]
            assert [e["error"] for e in errors] == ["bad_channel"] * 3
            assert "unknown channel" in errors[0]["detail"] and "Unknown agent" in errors[1]["detail"]
            await send(ws, {"type": "subscribe", "channels": "system"})
            assert (await recv(ws))["error"] == "bad_message"
            await send(ws, {"type": "ping"})
            assert (await recv(ws))["type"] == "pong"
        with pytest.raises(Exception) as refused:
            async with h.ws(token=False):
                pass
        assert "401" in str(refused.value)


async def test_market_channel_subscribes_the_feed_and_pushes_quotes(tmp_path: Path) -> None:
    async with serving(tmp_path) as h:
        token = h.market(1).token_ids[0]
        async with h.ws() as ws:
            await send(ws, {"type": "subscribe", "channels": [f"market:{token}"]})
            snapshot = await recv(ws)
            assert snapshot["type"] == "snapshot" and snapshot["data"]["token_id"] == token
            events = await recv_until(
                ws, lambda m: m["type"] == "event" and m["data"]["best_bid"] is not None, within_s=15
            )
            quote = events[-1]["data"]
            assert set(quote) == {"token_id", "best_bid", "best_ask", "mid", "last_trade_price", "stale", "ts"}
            assert token in h.sim.observed.subscribed_assets()
            await send(ws, {"type": "unsubscribe", "channels": [f"market:{token}"]})
            with anyio.fail_after(10):
                await h.room.hub.changed.wait_for(lambda: h.room.hub.subscribers(f"market:{token}") == 0, 10)


async def test_agent_log_lines_stream(tmp_path: Path) -> None:
    async with serving(tmp_path) as h:
        token = h.market().token_ids[0]
        agent = await h.ok(
            "POST",
            "/api/agents",
            {
                "kind": "price_alert",
                "config": {"token_id": token, "condition": "above", "price": 0.001, "repeat": True},
            },
        )
        async with h.ws() as ws:
            await send(ws, {"type": "subscribe", "channels": [f"logs:{agent['agent_id']}"]})
            snapshot = await recv(ws)
            assert snapshot["type"] == "snapshot"
            if not snapshot["data"]:
                line = (await recv_until(ws, lambda m: m["type"] == "event", within_s=15))[-1]["data"]
            else:
                line = snapshot["data"][-1]
            assert set(line) == {"ts", "level", "message"} and line["message"]


async def test_a_slow_client_is_dropped_and_counted(tmp_path: Path) -> None:
    async with serving(tmp_path, hub=Hub(client_queue=4)) as h:
        hub = h.room.hub
        async with h.ws() as ws:
            await send(ws, {"type": "subscribe", "channels": ["market:123"]})
            assert (await recv(ws))["type"] == "snapshot"
            for n in range(50):  # one synchronous burst: the socket's sender cannot drain in between
                hub.publish("market:123", {"n": n})
            with anyio.fail_after(10), pytest.raises(ConnectionClosed) as closed:
                await _drain(ws)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
        assert hub.drops == 1 and hub.subscribers("market:123") == 0
        metrics = (await h.get("/api/metrics")).text
        assert "pmrt_ws_dropped_clients_total 1" in metrics


async def test_a_reconnect_replay_that_would_overflow_the_queue_becomes_gap_and_snapshot(tmp_path: Path) -> None:
    """Two busy channels with 600 missed each (and a quiet one): 1,205 replayed texts would overflow a
    1,000-slot queue (1013, and the page would reconnect with the same since forever). Each channel is
    replayed densely or told ``gap`` and re-snapshotted instead."""
    async with serving(tmp_path, hub=Hub(buffer_size=1000, client_queue=1000)) as h:
        hub = h.room.hub
        channels = ["market:123", "market:456", "market:789"]
        async with h.ws() as ws:
            await send(ws, {"type": "subscribe", "channels": channels})
            snaps = [await recv(ws) for _ in channels]
            assert {m["type"] for m in snaps} == {"snapshot"}
        since = {m["channel"]: m["seq"] for m in snaps}
        with anyio.fail_after(10):
            await hub.changed.wait_for(lambda: all(hub.subscribers(c) == 0 for c in channels), 10)
        for n in range(600):
            for channel in channels[:2]:
                hub.publish(channel, {"n": n})
        for n in range(5):  # a quiet channel: its few missed events still fit and are replayed
            hub.publish(channels[2], {"n": n})
        async with h.ws() as ws:
            await send(ws, {"type": "subscribe", "channels": channels, "since": since})
            await send(ws, {"type": "ping"})
            got = await recv_until(ws, lambda m: m["type"] == "pong")
            assert hub.drops == 0
            outcomes: dict[str, str] = {}
            for channel in channels:
                mine = [m for m in got if m.get("channel") == channel]
                events = [m["seq"] for m in mine if m["type"] == "event"]
                if mine and mine[0]["type"] == "gap":
                    assert mine[0]["from_seq"] == since[channel] + 1
                    assert mine[1]["type"] == "snapshot" and mine[1]["seq"] == hub.channel(channel).seq
                    outcomes[channel] = "gap"
                else:
                    assert events == list(range(since[channel] + 1, hub.channel(channel).seq + 1))
                    outcomes[channel] = "replayed"
            # The budget is half the free queue (500): neither 600-event replay fits, the quiet one does.
            assert outcomes == {"market:123": "gap", "market:456": "gap", "market:789": "replayed"}


async def test_a_since_from_another_server_process_is_a_gap_then_a_snapshot(tmp_path: Path) -> None:
    """Seqs restart with the server: a since below the new seq would replay the wrong events without the epoch."""
    async with serving(tmp_path) as h:
        hub = h.room.hub
        async with h.ws() as ws:
            await send(ws, {"type": "subscribe", "channels": ["market:123"]})
            snapshot = await recv(ws)
            assert snapshot["type"] == "snapshot" and snapshot["epoch"] == hub.epoch
            for n in range(5):
                hub.publish("market:123", {"n": n})
            events = [await recv(ws) for _ in range(5)]
            assert {m["epoch"] for m in events} == {hub.epoch}
        stale = {"type": "subscribe", "channels": ["market:123"], "since": {"market:123": 2}, "epoch": "0ld3p0ch"}
        async with h.ws() as ws:
            await send(ws, stale)
            gap = await recv(ws)
            assert gap == {"type": "gap", "channel": "market:123", "from_seq": 1, "to_seq": 5, "epoch": hub.epoch}
            again = await recv(ws)
            assert again["type"] == "snapshot" and again["seq"] == 5 and again["epoch"] == hub.epoch
            # The same since in this epoch replays; an epoch that is not a string is refused.
            await send(ws, {"type": "subscribe", "channels": ["market:456"], "since": {"market:456": 0}, "epoch": 7})
            assert (await recv(ws))["error"] == "bad_message"
        async with h.ws() as ws:
            await send(ws, {**stale, "epoch": hub.epoch})
            assert [(await recv(ws))["seq"] for _ in range(3)] == [3, 4, 5]


async def test_binary_frames_bad_since_and_a_fresh_resubscribe(tmp_path: Path) -> None:
    async with serving(tmp_path) as h, h.ws() as ws:
        await ws.send(b"\x00\x01")  # a binary frame: an error, and the socket stays open
        assert (await recv(ws))["error"] == "bad_message"
        await send(ws, {"type": "subscribe", "channels": ["market:123"], "since": {"market:123": True}})
        refused = await recv(ws)
        assert refused["error"] == "bad_message" and "since" in refused["detail"]
        first = await recv(ws)
        assert first["type"] == "snapshot" and first["channel"] == "market:123"
        # A repeat subscribe is a no-op, but the page's resync (fresh) gets the snapshot again.
        await send(ws, {"type": "subscribe", "channels": ["market:123"]})
        await send(ws, {"type": "subscribe", "channels": ["market:123"], "fresh": True})
        again = await recv(ws)
        assert again["type"] == "snapshot" and again["channel"] == "market:123"
        assert h.room.hub.subscribers("market:123") == 1
        h.room.hub.publish("market:123", {"n": 1})
        assert (await recv(ws))["type"] == "event"  # still subscribed once: exactly one copy follows
        await send(ws, {"type": "ping"})
        assert (await recv(ws))["type"] == "pong"
