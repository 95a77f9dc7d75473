"""The RTDS channel: one socket, ref-counted topic/type subscriptions without filters (filtered locally)."""

from __future__ import annotations

from ..venues.polymarket import protocol
from ..venues.polymarket.parsing import parse_rtds_frame
from .channel_host import ChannelHost
from .connection import ChannelSpec, FeedConnection

__all__ = ["RtdsChannel"]


class RtdsChannel:
    def __init__(self, host: ChannelHost) -> None:
        self._host = host
        self.conn: FeedConnection | None = None

    async def subscribe(self, topic: str, type: str = "*") -> None:
        """Subscribe to an RTDS topic/type without filters (filter locally: docs/polymarket-protocol.md#rtds-frames).
        Ref-counted."""
        key = (topic, type)
        async with self._host.lock:
            fresh = self._host.desired.rtds.acquire([key])
            if self.conn is None:
                s = self._host.settings
                spec = ChannelSpec(
                    channel="rtds",
                    url=s.rtds_ws_url,
                    ping_interval_s=s.rtds_ping_interval_s,
                    pong_timeout_s=max(s.pong_timeout_s, 3 * s.rtds_ping_interval_s),
                    # RTDS is known to stall while the socket stays open (docs/polymarket-protocol.md#rtds-frames).
                    idle_timeout_s=s.rtds_idle_timeout_s,
                    parse=parse_rtds_frame,
                )
                self.conn = self._host.open_connection(
                    "rtds-0", spec, self._frames, assets=lambda: len(self._host.desired.rtds)
                )
            elif fresh:
                await self.conn.send(protocol.rtds_subscribe_frame(fresh))

    async def unsubscribe(self, topic: str, type: str = "*") -> None:
        async with self._host.lock:
            gone = self._host.desired.rtds.release([(topic, type)])
            conn = self.conn
            if conn is None or not gone:
                return
            if not len(self._host.desired.rtds):
                self.conn = None
                self._host.close_connection(conn)
            else:
                await conn.send(protocol.rtds_unsubscribe_frame(gone))

    async def _frames(self, refresh: bool) -> list[str]:
        subs = sorted(self._host.desired.rtds.wanted())
        return [protocol.rtds_subscribe_frame(subs)] if subs else []
