"""Redis key names shared by the feed process (publisher) and the MCP servers (consumers).

Every key starts with a namespace prefix (default ``pmrt:``) so one Redis can host several deployments
(``pmrt-staging:``, ...). Layout:

* ``{p}stream:asset:{token_id}``  token-scoped events (book, price_change, last_trade_price,
  tick_size_change, best_bid_ask) plus book-only copies of ``feed_status`` for that token;
* ``{p}stream:market_events``     new_market / market_resolved (the market channel's custom features);
* ``{p}stream:user``              user_order / user_trade (the account the feed process is logged in as);
* ``{p}stream:rtds``              crypto_price / equity_price / comment (legacy RTDS events);
* ``{p}stream:polybolt``          reference_price (PolyBolt);
* ``{p}stream:sports``            sports_score (every game update of the sports socket);
* ``{p}stream:status``            every ``feed_status`` once, with all the tokens it affects;
* ``{p}lastbook:{token_id}``      stream id of the newest ``book`` entry of that token's stream;
* ``{p}leases`` (set) + ``{p}lease:{server_id}`` (JSON, PX TTL)  what each live server wants;
* ``{p}feed:leader``              the HA lock (value: the leader's token ``host:pid:uuid``);
* ``{p}owner:sessions``           the paper-session/agent ownership lock (value: the owning server id);
* ``{p}cursors:{consumer}``       hash stream -> last routed id, for consumers with a stable name;
* ``{p}consumer:{consumer}``      lock held by the live server using that consumer name (PX TTL);
* ``{p}pubseq:{source}``          last batch sequence number a publisher wrote (idempotent retries).

Stream entries have the fields ``e`` (``encode_event`` JSON), ``r`` (``"0"`` = apply to books but do
not route: checkpoints and per-token ``feed_status`` copies) and ``s`` (``<publisher id>:<seq>``, the
seq increasing along every stream: readers drop an entry whose seq they already saw from that publisher,
e.g. a batch re-sent after Redis restarted without persistence).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ..model.events import Event, FeedStatus

__all__ = ["DEFAULT_PREFIX", "Keys", "stream_kind_of"]

DEFAULT_PREFIX: Final = "pmrt:"

_TOKEN_TYPES: Final = frozenset({"book", "price_change", "last_trade_price", "tick_size_change", "best_bid_ask"})
_CHANNEL_OF_TYPE: Final = {
    "new_market": "market_events",
    "market_resolved": "market_events",
    "user_order": "user",
    "user_trade": "user",
    "crypto_price": "rtds",
    "equity_price": "rtds",
    "comment": "rtds",
    "reference_price": "polybolt",
    "sports_score": "sports",
    "feed_status": "status",
}


def stream_kind_of(event: Event) -> str:
    """``"asset"`` for token-scoped events, else the channel stream name (``market_events``, ...)."""
    etype = event.type
    if etype in _TOKEN_TYPES:
        return "asset"
    return _CHANNEL_OF_TYPE[etype]


@dataclass(frozen=True, slots=True)
class Keys:
    """Key builder for one namespace ``prefix``."""

    prefix: str = DEFAULT_PREFIX

    def asset_stream(self, asset_id: str) -> str:
        return f"{self.prefix}stream:asset:{asset_id}"

    def channel_stream(self, channel: str) -> str:
        return f"{self.prefix}stream:{channel}"

    def stream_for(self, event: Event) -> str:
        """The stream an event is published to (``feed_status`` goes to the status stream)."""
        kind = stream_kind_of(event)
        if kind == "asset":
            return self.asset_stream(event.asset_id)  # type: ignore[union-attr]  # token-scoped types have it
        return self.channel_stream(kind)

    def asset_of_stream(self, stream: str) -> str | None:
        head = f"{self.prefix}stream:asset:"
        return stream[len(head) :] if stream.startswith(head) else None

    def lastbook(self, asset_id: str) -> str:
        return f"{self.prefix}lastbook:{asset_id}"

    @property
    def lease_set(self) -> str:
        return f"{self.prefix}leases"

    def lease(self, server_id: str) -> str:
        return f"{self.prefix}lease:{server_id}"

    @property
    def leader(self) -> str:
        return f"{self.prefix}feed:leader"

    @property
    def sessions_owner(self) -> str:
        return f"{self.prefix}owner:sessions"

    def pubseq(self, source_id: str) -> str:
        return f"{self.prefix}pubseq:{source_id}"

    def cursors(self, consumer: str) -> str:
        return f"{self.prefix}cursors:{consumer}"

    def consumer_lock(self, consumer: str) -> str:
        """Held (with the server id) by the live server using that consumer name: names must be unique."""
        return f"{self.prefix}consumer:{consumer}"


def status_copy_for(event: FeedStatus, asset_id: str) -> FeedStatus:
    """The book-only copy of a ``feed_status`` written into one token's stream (keeps per-token order)."""
    return FeedStatus(
        ts_event_ms=event.ts_event_ms,
        ts_recv_ns=event.ts_recv_ns,
        channel=event.channel,
        connection_id=event.connection_id,
        state=event.state,
        detail=event.detail,
        asset_ids=(asset_id,),
    )
