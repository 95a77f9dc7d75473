"""A real ``redis-server`` for tests: free loopback port, no persistence, temp directory.

Use the ``redis_server`` fixture (import it into the test module). It skips the test, with the reason,
only when the ``redis-server`` binary is absent (``make redis-server`` installs it). ``RedisServer``
can be stopped and restarted on the same port to test outages.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path

import anyio
import pytest
import redis.asyncio as aioredis

__all__ = ["RedisServer", "redis_server"]

_READY = b"Ready to accept connections"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """One ``redis-server`` child process bound to 127.0.0.1 only."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout_s: float = 10.0) -> None:
        """Start on ``self.port`` and return once it accepts connections (bounded by ``timeout_s``)."""
        assert not self.running
        args = [
            self.binary,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.workdir),
            "--protected-mode", "yes",
            "--loglevel", "notice",
            # Keyspace notifications let tests wait for a key to expire or change instead of polling.
            "--notify-keyspace-events", "KA",
        ]  # fmt: skip
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=self.workdir)
        assert self.proc.stdout is not None
        os.set_blocking(self.proc.stdout.fileno(), False)
        seen = b""
        deadline = time.monotonic() + timeout_s
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            while _READY not in seen:
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"redis-server did not start: {seen.decode(errors='replace')[-500:]}")
                if sel.select(timeout=left):
                    seen += self.proc.stdout.read() or b""
        self.starts += 1

    def stop(self, *, kill: bool = False) -> None:
        """SIGTERM (or SIGKILL) and wait; nothing is saved (persistence is off)."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server binary not found: run `make redis-server` (installs Debian's redis-server)")
    workdir = tmp_path / "redis"
    workdir.mkdir()
    server = RedisServer(binary, workdir)
    for attempt in range(3):
        try:
            server.start()
            break
        except RuntimeError:
            # The free port may have been taken between probing and binding: try another.
            if attempt == 2:
                raise
            server.port = _free_port()
    try:
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.stop()


async def wait_redis(
    url: str, predicate: Callable[[], Awaitable[bool]], *, keys: Sequence[str], within_s: float = 10.0
) -> None:
    """Re-check ``predicate`` each time Redis announces a change to one of ``keys`` (set, expiry, delete).

    Uses keyspace notifications (enabled by :class:`RedisServer`), so waiting for a TTL to lapse or a lock
    to change hands needs no polling. Subscribes before the first check, so no change can slip between.
    """
    client = aioredis.Redis.from_url(url)
    pubsub = client.pubsub()
    try:
        await pubsub.subscribe(*(f"__keyspace@0__:{key}" for key in keys))
        with anyio.fail_after(within_s):
            while not await predicate():
                await pubsub.get_message(timeout=within_s)
    finally:
        await pubsub.aclose()
        await client.aclose()
