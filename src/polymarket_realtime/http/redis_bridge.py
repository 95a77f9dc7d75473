"""Redis mode for the control room: every server's dashboard shows the owner's live state and forwards
control actions to it (docs/redis.md, "The control room in Redis mode").

On the server that owns paper sessions and agents, the hub's mirrored channels go to Redis
(:class:`~..redisbus.control_stream.ControlStream`) and forwarded requests are answered
(:class:`~..redisbus.control_rpc.ControlRpc`). On the others, the stream feeds the hub, snapshots are
asked from the owner, and :class:`ForwardingCaller` sends the paper/agent/system tools to the owner:
its answer (or its error) comes back as if the action had run here; 503 ``no_owner`` when nobody answers.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio.abc

from ..app.root import Application
from ..errors import PolymarketRealtimeError
from ..redisbus.client import connect_redis
from ..redisbus.control_rpc import ControlRpc, RemoteError
from ..redisbus.control_stream import ControlStream, is_mirrored
from .calls import ApiError, ToolCaller, error_for
from .hub import Hub
from .sources import Sources, commands_channel

__all__ = ["ControlBridge", "ForwardingCaller"]

log = logging.getLogger(__name__)

LOCAL_TOOLS = frozenset({"search_markets", "get_order_book"})
"""Market reads every server answers itself (market data is shared through the feed)."""


def _remote_to_api(exc: RemoteError) -> ApiError:
    return ApiError(exc.status, exc.error, exc.detail)


class ForwardingCaller(ToolCaller):
    """A :class:`ToolCaller` that sends everything but market reads to the owner while this server is not it."""

    def __init__(self, local: ToolCaller, bridge: ControlBridge) -> None:
        super().__init__(local._app)
        self.local = local
        self.bridge = bridge

    async def forwarded(self, op: str, args: dict[str, Any]) -> dict[str, Any] | None:
        return None if self.bridge.is_owner() else await self.bridge.forward(op, args)

    async def call(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        if name in LOCAL_TOOLS or self.bridge.is_owner():
            return await self.local.call(name, arguments)
        return await self.bridge.forward("tool", {"name": name, "arguments": arguments})


class ControlBridge:
    def __init__(self, app: Application, hub: Hub, sources: Sources, local: ToolCaller) -> None:
        redis, ownership = app.redis, app.ownership
        assert redis is not None and ownership is not None  # applies() said so
        self.app = app
        self.hub = hub
        self.sources = sources
        self.local = local
        self.ownership = ownership
        settings = app.settings
        assert settings.redis_url is not None
        # Its own client: the blocking reads must not share the feed consumer's bounded socket timeout.
        self.client = connect_redis(settings.redis_url.reveal(), timeout_s=10.0)
        self.stream = ControlStream(self.client, redis.keys, redis.server_id, self.is_owner)
        self.rpc = ControlRpc(self.client, redis.keys, redis.server_id)
        self.caller = ForwardingCaller(local, self)

    @staticmethod
    def applies(app: Application) -> bool:
        """Redis mode with the ownership rule (a shared-feed backend that competes for sessions)."""
        return app.settings.redis_url is not None and app.redis is not None and app.ownership is not None

    def is_owner(self) -> bool:
        return bool(self.ownership.held and self.ownership.services_up)

    async def forward(self, op: str, args: dict[str, Any]) -> dict[str, Any]:
        try:
            return await self.rpc.call(op, args)
        except RemoteError as exc:
            raise _remote_to_api(exc) from None

    async def start(self, tg: anyio.abc.TaskGroup) -> None:
        self.hub.taps.append(self.stream.offer)
        self.hub.mirrored = lambda name: is_mirrored(name) and self.is_owner()
        self.sources.remote = self.forward
        tg.start_soon(self.stream.publish_loop, name="control-stream-publish")
        tg.start_soon(self.stream.read_loop, self._publish, name="control-stream-read")
        tg.start_soon(self.rpc.serve, self._execute, self.is_owner, name="control-requests")

    def _publish(self, channel: str, data: Any) -> None:
        if channel.startswith("commands:"):  # command channels have their own frame (sources.command_frame)
            commands_channel(self.hub, channel.removeprefix("commands:"))
        self.hub.publish(channel, data)

    async def close(self) -> None:
        self.stream.close()
        await self.client.aclose()

    async def _execute(self, op: str, args: dict[str, Any]) -> dict[str, Any]:
        """Owner side of a forwarded request: the same code the owner's own API and page use."""
        try:
            if op == "tool":
                return await self.local.call(str(args.get("name", "")), dict(args.get("arguments") or {}))
            if op == "snapshot":
                if self.sources.paper is None:  # services just started here; the push channels follow shortly
                    raise RemoteError(503, "unavailable", "the owner is starting its sessions; try again in a moment")
                return {"data": await self.sources.snapshot(str(args.get("channel", "")))}
            if op == "restart_agent":
                agents = self.app.require_agents()
                view = await agents.restart_agent(str(args.get("agent_id", "")), "restarted from the dashboard")
                return dict(view.model_dump(mode="json"))
        except ApiError as exc:
            raise RemoteError(exc.status, exc.error, exc.detail) from None
        except PolymarketRealtimeError as exc:
            api = error_for(exc)
            raise RemoteError(api.status, api.error, api.detail) from None
        raise RemoteError(400, "invalid_input", f"unknown control operation {op[:40]!r}")
