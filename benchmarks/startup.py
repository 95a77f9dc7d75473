"""Start-up: spawn `serve` and complete the MCP `initialize` round trip over stdio (issue 3: well under 2 s).

Run: ``.venv/bin/python benchmarks/startup.py [--quick]``. Each trial spawns a fresh server process
(production endpoints are never contacted: sockets open on the first subscription) and times spawn +
imports + `initialize` + `notifications/initialized` + one `tools/list`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time


async def trial(data_dir: str) -> tuple[float, float]:
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "polymarket_realtime",
        "serve",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "POLYMARKET_MCP_DATA_DIR": data_dir, "POLYMARKET_MCP_LOG_LEVEL": "WARNING"},
        limit=16 * 1024 * 1024,  # tools/list is one long JSON line
    )
    assert proc.stdin is not None and proc.stdout is not None

    async def request(rid: int, method: str, params: dict[str, object]) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        message = {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}
        proc.stdin.write(json.dumps(message).encode() + b"\n")
        await proc.stdin.drain()
        while json.loads(await proc.stdout.readline()).get("id") != rid:
            pass

    init = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}
    await request(1, "initialize", init)
    initialized = time.perf_counter() - started
    proc.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
    await request(2, "tools/list", {})
    listed = time.perf_counter() - started
    proc.stdin.close()
    await proc.wait()
    return initialized, listed


async def main(trials: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        results = [await trial(tmp) for _ in range(trials)]
    init = [r[0] for r in results]
    listed = [r[1] for r in results]
    print(f"start-up over stdio, {trials} fresh processes (target: initialize well under 2 s)")
    print(f"  spawn -> initialize answered: median {statistics.median(init):.2f} s, max {max(init):.2f} s")
    print(f"  spawn -> tools/list answered: median {statistics.median(listed):.2f} s, max {max(listed):.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 trials instead of 10")
    asyncio.run(main(3 if parser.parse_args().quick else 10))
