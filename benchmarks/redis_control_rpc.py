"""Round trip of a control action forwarded over Redis, and of a change mirrored to another server.

Starts a private ``redis-server`` (loopback, free port, no persistence) and, in one process, an "owner"
(``ControlRpc.serve`` answering with a trivial result, ``ControlStream.offer`` + ``publish_loop``) and a
"viewer" (``ControlRpc.call``, ``ControlStream.read_loop``) sharing it, as two control rooms in Redis mode
do (``http/redis_bridge.py``). The service work itself is left out: these are the added costs of Redis mode.

Reported: p50/p99 of ``call`` (XADD request, owner XREAD, SET NX claim, LPUSH answer, BLPOP) over N
sequential calls, and p50/p99 of offer -> read by the viewer over N mirrored messages sent one at a time.

Run: ``.venv/bin/python benchmarks/redis_control_rpc.py [--quick]`` (skips, exit 0, without redis-server).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio

sys.path.insert(0, str(Path(__file__).parent))
from polymarket_realtime.redisbus.client import connect_redis
from polymarket_realtime.redisbus.control_rpc import ControlRpc, NoOwnerError
from polymarket_realtime.redisbus.control_stream import ControlStream
from polymarket_realtime.redisbus.keys import Keys
from redis_fanout import start_redis


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def driver(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_redis(Path(tmp))
        try:
            client = connect_redis(url, timeout_s=10.0)
            keys = Keys("bench:")
            await client.set(keys.sessions_owner, "owner")
            owner_rpc, viewer_rpc = ControlRpc(client, keys, "owner"), ControlRpc(client, keys, "viewer")
            owner_stream = ControlStream(client, keys, "owner", lambda: True)
            viewer_stream = ControlStream(client, keys, "viewer", lambda: False)
            got = anyio.Event()
            arrived: list[float] = []

            async def execute(op: str, args: dict[str, Any]) -> dict[str, Any]:
                return {"op": op, **args}

            def received(_channel: str, _data: Any) -> None:
                arrived.append(time.perf_counter())
                got.set()

            async with anyio.create_task_group() as tg:
                tg.start_soon(owner_rpc.serve, execute, lambda: True)
                tg.start_soon(owner_stream.publish_loop)
                tg.start_soon(viewer_stream.read_loop, received)
                viewer_rpc.timeout_s = 0.5
                while True:  # a request written before the owner's first read is not seen: retry until one is
                    try:
                        await viewer_rpc.call("tool", {"warm": 1})
                        break
                    except NoOwnerError:
                        continue
                rpc: list[float] = []
                for i in range(n):
                    start = time.perf_counter()
                    await viewer_rpc.call("tool", {"i": i})
                    rpc.append((time.perf_counter() - start) * 1000)
                mirror: list[float] = []
                owner_stream.offer("sessions", {"warm": True})
                await got.wait()
                for i in range(n):
                    got = anyio.Event()
                    start = time.perf_counter()
                    owner_stream.offer("sessions", {"session_id": f"s{i}"})
                    await got.wait()
                    mirror.append((arrived[-1] - start) * 1000)
                tg.cancel_scope.cancel()
            await client.aclose()
            owner_stream.close()
            viewer_stream.close()
        finally:
            proc.kill()
            proc.wait()
    print(f"forwarded control action ({n} calls): p50 {statistics.median(rpc):.2f} ms, p99 {pct(rpc, 0.99):.2f} ms")
    print(f"mirrored change ({n} messages):    p50 {statistics.median(mirror):.2f} ms, p99 {pct(mirror, 0.99):.2f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 round trips instead of 2000")
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        print("redis-server not installed (make redis-server); skipped")
        return 0
    anyio.run(driver, 200 if args.quick else 2000)
    return 0


if __name__ == "__main__":
    sys.exit(main())
