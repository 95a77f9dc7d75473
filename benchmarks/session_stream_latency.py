"""Per-session command stream latency (issue 13): command generated -> received by a WebSocket client.

Run: ``.venv/bin/python benchmarks/session_stream_latency.py [--samples 300] [--clients 1,10,100]``.
Starts the simulator and the real control room (uvicorn on a loopback port) in this process, keeps 10
paper sessions busy (market orders every ``--every`` seconds each, so every session emits order_placed and
order_filled commands continuously), connects N clients to ``/ws/sessions/<id>`` of one of them, and times
each of its commands from the moment the paper service hands it to the hub (after the commit) to its
arrival at each client. The clients run on the same event loop as the server (a pessimistic setup: their
parsing competes with the server's sends). Target: p99 < 100 ms with 100 clients.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import anyio.streams.text
import anyio.to_thread
from websockets.asyncio.client import connect

from polymarket_realtime.config import Settings
from polymarket_realtime.errors import PolymarketRealtimeError
from polymarket_realtime.http.host import ControlRoom, HttpOptions, bind_socket
from polymarket_realtime.server.app import create_server
from polymarket_realtime.simulator import Simulator, SimulatorConfig
from polymarket_realtime.storage.activity import ChangeSignal

BUSY_SESSIONS = 10


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def busy(paper: Any, session_id: str, token: str, every: float, stop: anyio.Event) -> None:
    side = "BUY"
    while not stop.is_set():
        try:
            await paper.place_order(session_id, token, side, Decimal(5), "market", wait_s=0)
            side = "SELL" if side == "BUY" else "BUY"
        except PolymarketRealtimeError:
            side = "BUY"
        await anyio.sleep(every)


async def client_process(url: str, clients: int) -> None:
    """Child mode: N clients; prints "ready", then on "want <seq>" waits for it everywhere and dumps timings."""
    received: list[dict[int, float]] = [{} for _ in range(clients)]
    progress = ChangeSignal()
    want = [0]

    async def one(index: int, ready: anyio.Event) -> None:
        async with connect(url, max_queue=None, open_timeout=30) as ws:
            ready.set()
            async for text in ws:
                now = time.perf_counter()  # CLOCK_MONOTONIC on Linux: comparable with the parent's clock
                message = json.loads(text)
                if message.get("type") == "command":
                    received[index][message["seq"]] = now
                    progress.notify()

    async with anyio.create_task_group() as tg:
        for index in range(clients):
            ready = anyio.Event()
            tg.start_soon(one, index, ready)
            await ready.wait()
        print("ready", flush=True)
        line = await anyio.to_thread.run_sync(sys.stdin.readline)
        want[0] = int(line.split()[1])
        await progress.wait_for(lambda: all(want[0] in r for r in received), 120)
        print(json.dumps([{str(k): v for k, v in r.items()} for r in received]), flush=True)
        tg.cancel_scope.cancel()


async def measure_in_process(clients: int, samples: int, room: ControlRoom, port: int, target: str) -> list[float]:
    """Clients in a child process (their parsing does not share the server's event loop)."""
    channel = f"commands:{target}"
    generated: dict[int, float] = {}
    progress = ChangeSignal()
    original = room.hub.publish

    def publish(name: str, data: Any) -> int:
        started = time.perf_counter()
        seq = original(name, data)
        if name == channel:
            generated[seq] = started
            progress.notify()
        return seq

    url = f"ws://127.0.0.1:{port}/ws/sessions/{target}?token={room.token}"
    command = [sys.executable, __file__, "--child", url, "--clients", str(clients)]
    async with await anyio.open_process(command) as proc:
        assert proc.stdout is not None and proc.stdin is not None
        lines = anyio.streams.text.TextReceiveStream(proc.stdout)
        buffer = ""
        while "ready\n" not in buffer:
            buffer += await lines.receive()
        with anyio.fail_after(30):
            await room.hub.changed.wait_for(lambda: room.hub.subscribers(channel) == clients, 30)
        room.hub.publish = publish  # type: ignore[method-assign]
        try:
            assert await progress.wait_for(lambda: len(generated) >= samples, 300)
        finally:
            room.hub.publish = original  # type: ignore[method-assign]
        measured = sorted(generated)[:samples]
        await proc.stdin.send(f"want {measured[-1]}\n".encode())
        buffer = buffer.split("ready\n", 1)[1]
        async for chunk in lines:
            buffer += chunk
        received = json.loads(buffer)
    return [(r[str(seq)] - generated[seq]) * 1000 for r in received for seq in measured]


async def measure(clients: int, samples: int, room: ControlRoom, port: int, target: str) -> list[float]:
    channel = f"commands:{target}"
    generated: dict[int, float] = {}
    original = room.hub.publish

    def publish(name: str, data: Any) -> int:
        started = time.perf_counter()
        seq = original(name, data)
        if name == channel:
            generated[seq] = started
            progress.notify()
        return seq

    progress = ChangeSignal()
    received: list[dict[int, float]] = [{} for _ in range(clients)]
    done = anyio.Event()
    url = f"ws://127.0.0.1:{port}/ws/sessions/{target}?token={room.token}"

    async def client(index: int, ready: anyio.Event) -> None:
        async with connect(url, max_queue=None, open_timeout=30) as ws:
            ready.set()
            while not done.is_set():
                with anyio.move_on_after(1):
                    text = await ws.recv()
                    now = time.perf_counter()
                    message = json.loads(text)
                    if message.get("type") == "command":
                        received[index][message["seq"]] = now
                        progress.notify()

    async with anyio.create_task_group() as tg:
        for index in range(clients):
            ready = anyio.Event()
            tg.start_soon(client, index, ready)
            await ready.wait()
        with anyio.fail_after(30):
            await room.hub.changed.wait_for(lambda: room.hub.subscribers(channel) == clients, 30)
        room.hub.publish = publish  # type: ignore[method-assign]
        try:
            assert await progress.wait_for(lambda: len(generated) >= samples, 300)
            measured = set(list(generated)[:samples])
            assert await progress.wait_for(lambda: all(measured <= r.keys() for r in received), 60)
        finally:
            room.hub.publish = original  # type: ignore[method-assign]
            done.set()
    return [(r[seq] - generated[seq]) * 1000 for r in received for seq in measured]


async def main(samples: int, counts: list[int], every: float) -> None:
    config = SimulatorConfig(seed=2, markets=BUSY_SESSIONS, rate_per_s=50.0, resolve_after_s=None)
    async with Simulator(config) as sim:
        env = {**sim.env(), "POLYMARKET_MCP_DATA_DIR": tempfile.mkdtemp(), "POLYMARKET_MCP_LOG_LEVEL": "WARNING"}
        settings = Settings.from_env(env, env_file=Path("/nonexistent"))
        server = create_server(settings)
        room = ControlRoom(server, settings, HttpOptions(port=0))
        sock = bind_socket("127.0.0.1", 0)
        port = int(sock.getsockname()[1])
        stop = anyio.Event()
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: room.serve(sock, announce=False))
            await room.ready.wait()
            paper = room.sources.paper
            assert paper is not None
            sessions: list[tuple[str, str]] = []
            for index, market in enumerate(sim.model.active_markets()[:BUSY_SESSIONS]):
                token = market.token_ids[0]
                view = await paper.create_session(f"busy-{index}", starting_cash=Decimal(10**6), token_ids=[token])
                sessions.append((view.session_id, token))
            for session_id, token in sessions:
                tg.start_soon(busy, paper, session_id, token, every, stop)
            target = sessions[0][0]
            print(
                f"{BUSY_SESSIONS} sessions busy (a market order each every {every * 1000:.0f} ms); "
                f"{samples} commands measured per run on {target}"
            )
            print("     where | clients | samples | p50 ms | p99 ms | max ms")
            runs = [(c, "same loop", measure) for c in counts]
            runs += [(c, "child proc", measure_in_process) for c in counts]
            for clients, where, how in runs:
                latencies = await how(clients, samples, room, port, target)
                print(f"{where:>10} ", end="")
                print(
                    f"{clients:7d} | {len(latencies):7d} | {statistics.median(latencies):6.2f} | "
                    f"{pct(latencies, 0.99):6.2f} | {max(latencies):6.2f}"
                )
            stop.set()
            room.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--clients", default="1,10,100")
    parser.add_argument("--every", type=float, default=0.05, help="seconds between a busy session's orders")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        anyio.run(client_process, args.child, int(args.clients))
    else:
        anyio.run(main, args.samples, [int(c) for c in args.clients.split(",")], args.every)
