"""Control actions across servers: a request/response over Redis, carried out by the session owner.

A server that does not own paper sessions and agents (:mod:`.ownership`) forwards a control action (an
MCP tool name and its arguments, or a dashboard snapshot) with :meth:`ControlRpc.call`: it reads who
holds the ownership lock, ``XADD``s ``{id, op, a, r}`` to ``{p}control:requests`` (``r`` is a fresh reply
key) and waits on the reply key with ``BLPOP``. The owner's :meth:`ControlRpc.serve` loop reads the
requests from a cursor, runs each through the same code its own API uses (so validation and errors are
the owner's) and ``LPUSH``es ``{ok, result}`` or ``{ok: false, status, error, detail}`` to the reply key,
which expires soon after. No lock holder, or no answer within ``timeout_s``, is :class:`NoOwnerError`.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.abc
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from .keys import Keys

__all__ = ["ControlRpc", "NoOwnerError", "RemoteError"]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 5.0
_REQUESTS_MAXLEN = 1000
_REPLY_TTL_MS = 30_000
_BLOCK_MS = 1000
_CATCH_UP_MARGIN_MS = 1000
"""A request is answered on catch-up only if its caller still waits at least this long."""
_RETRY_S = 0.5

START_HINT = (
    "start a server with POLYMARKET_MCP_REDIS_URL and the paper toolset (e.g. `polymarket-realtime-mcp serve "
    "--http`): it takes over paper sessions and agents by itself"
)


class RemoteError(Exception):
    """The owner answered with an error (its HTTP status, code and message)."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail


class NoOwnerError(RemoteError):
    """No server owns sessions/agents, the owner stopped answering, or Redis is unreachable."""

    def __init__(self, detail: str) -> None:
        super().__init__(503, "no_owner", detail)


Execute = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
"""Owner side: run ``op`` with ``args``; raises :class:`RemoteError` for an error answer."""


class ControlRpc:
    def __init__(
        self,
        client: aioredis.Redis,
        keys: Keys,
        server_id: str,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.client = client
        self.keys = keys
        self.requests_key = f"{keys.prefix}control:requests"
        self.server_id = server_id
        self.timeout_s = timeout_s
        self.forwarded = 0
        self.served = 0

    def reply_key(self, request_id: str) -> str:
        return f"{self.keys.prefix}control:reply:{request_id}"

    async def call(self, op: str, args: dict[str, Any]) -> dict[str, Any]:
        """Have the owner run ``op``; its result, or :class:`RemoteError`/:class:`NoOwnerError`."""
        request_id = uuid.uuid4().hex
        reply = self.reply_key(request_id)
        try:
            raw_owner = await self.client.get(self.keys.sessions_owner)
            if raw_owner is None:
                raise NoOwnerError(f"no server owns paper sessions and agents right now: {START_HINT}")
            owner = raw_owner.decode() if isinstance(raw_owner, bytes) else str(raw_owner)
            if owner == self.server_id:  # we hold the lock but our services are not up yet (or just went down)
                raise RemoteError(
                    503, "unavailable", "this server is taking over paper sessions and agents; try again in a moment"
                )
            fields = {"id": request_id, "op": op, "a": json.dumps(args, default=str), "r": reply, "f": self.server_id}
            await self.client.xadd(self.requests_key, fields, maxlen=_REQUESTS_MAXLEN, approximate=True)  # type: ignore[arg-type]
            self.forwarded += 1
            answer = await self.client.blpop([reply], timeout=self.timeout_s)
        except (RedisError, OSError) as exc:
            raise NoOwnerError(
                f"cannot reach the session owner: Redis is unreachable ({type(exc).__name__}); "
                "try again when it is back"
            ) from None
        if answer is None:
            raise NoOwnerError(
                f"the owner {owner} stopped answering (no reply within {self.timeout_s:g}s); if it is gone, another "
                f"server takes over once its lock expires, or {START_HINT}"
            )
        body = json.loads(answer[1])
        if body.get("ok"):
            return dict(body.get("result") or {})
        status, error = int(body.get("status", 500)), str(body.get("error", "server_error"))
        raise RemoteError(status, error, str(body.get("detail", "")))

    async def serve(self, execute: Execute, is_owner: Callable[[], bool]) -> None:
        """Forever: while this server is the owner, answer the requests its callers still wait for.

        It starts reading a little less than one caller timeout back (Redis time), so a server that just
        took over answers the requests written while it was starting; each request is claimed once
        (``SET NX``), so a restarted owner, or two servers that both believe they own sessions for a moment,
        never carry one action out twice.
        """
        cursor: str | None = None
        async with anyio.create_task_group() as tg:
            while True:
                try:
                    if cursor is None:
                        seconds, micros = await self.client.time()
                        now_ms = int(seconds) * 1000 + int(micros) // 1000
                        cursor = f"{max(0, now_ms - int(self.timeout_s * 1000) + _CATCH_UP_MARGIN_MS)}-0"
                    answer: Any = await self.client.xread({self.requests_key: cursor}, count=100, block=_BLOCK_MS)
                except (RedisError, OSError) as exc:
                    log.warning("control requests: cannot read Redis (%s); retrying", type(exc).__name__)
                    await anyio.sleep(_RETRY_S)
                    continue
                for _stream, entries in answer or []:
                    for entry_id, fields in entries:
                        cursor = _text(entry_id)
                        if is_owner():
                            tg.start_soon(self._answer, execute, {_text(k): _text(v) for k, v in fields.items()})

    async def _answer(self, execute: Execute, fields: dict[str, str]) -> None:
        reply = fields.get("r", "")
        if not reply.startswith(f"{self.keys.prefix}control:reply:"):
            return
        try:
            claimed = await self.client.set(f"{reply}:taken", self.server_id, nx=True, px=_REPLY_TTL_MS)
        except (RedisError, OSError) as exc:
            log.warning("control request: cannot claim it over Redis (%s)", type(exc).__name__)
            return
        if not claimed:
            return
        try:
            args = json.loads(fields.get("a") or "{}")
            result = await execute(fields.get("op", ""), args if isinstance(args, dict) else {})
            body: dict[str, Any] = {"ok": True, "result": result}
        except RemoteError as exc:
            body = {"ok": False, "status": exc.status, "error": exc.error, "detail": exc.detail}
        except Exception:  # a forwarded action must never take the owner down
            log.warning("control request %s failed", fields.get("op"), exc_info=True)
            detail = "internal error; see the owner's log"
            body = {"ok": False, "status": 500, "error": "server_error", "detail": detail}
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.lpush(reply, json.dumps(body, default=str))
                pipe.pexpire(reply, _REPLY_TTL_MS)
                await pipe.execute()
            self.served += 1
        except (RedisError, OSError) as exc:
            log.warning("control request: cannot answer over Redis (%s)", type(exc).__name__)


def _text(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)
