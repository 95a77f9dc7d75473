"""Reference prices (PolyBolt): the feed keys of a request (also used by ``cli record``) and the subscription."""

from __future__ import annotations

from ..errors import InvalidInputError
from ..model.events import Event
from ..routing.router import Subscription
from ..venues.polymarket import polybolt as pb
from .root import Application
from .subscriptions import REFERENCE_TYPES, create_subscription

__all__ = ["reference_keys", "subscribe_reference"]


def reference_keys(symbols: list[str], channel: str, provider: str | None) -> list[str]:
    """Feed keys for the request (validated, deduplicated); empty ``symbols`` = the channel's whole catalog.

    Raises:
        InvalidInputError: unknown channel or symbol, or a provider where the venue takes none.
    """
    if channel not in pb.CHANNELS:
        raise InvalidInputError(f"channel {channel!r} is not one of {', '.join(pb.CHANNELS)}")
    if provider is not None:
        if provider not in pb.PROVIDERS:
            raise InvalidInputError(f"provider {provider!r} is not one of {', '.join(pb.PROVIDERS)} (or omit it)")
        if not channel.startswith("equity"):
            raise InvalidInputError(
                f"provider applies to the equity channels only; {channel} has a single producer: omit provider"
            )
    if not isinstance(symbols, list):
        raise InvalidInputError("symbols must be a list of strings, e.g. ['btcusd']")
    wanted = [pb.normalize_symbol(s, channel) for s in symbols] or list(pb.SYMBOLS[channel])
    return list(dict.fromkeys(pb.key_of(channel, s, provider) for s in wanted))


async def subscribe_reference(
    app: Application, keys: list[str], channel: str, provider: str | None, *, callback_type: str
) -> Subscription:
    """Reference prices of ``keys`` (from :func:`reference_keys`) plus the PolyBolt sockets' ``feed_status``."""
    series = frozenset((channel, key.split(":")[1]) for key in keys)

    def predicate(event: Event) -> bool:
        if event.type == "feed_status":
            return getattr(event, "channel", "") == "polybolt"
        return (getattr(event, "channel", ""), getattr(event, "symbol", "")) in series

    return await create_subscription(
        app,
        kind="reference_prices",
        token_ids=(),
        event_types=REFERENCE_TYPES,
        callback_type=callback_type,
        predicate=predicate,
        reference=keys,
        meta={"channel": channel, "symbols": sorted(s for _, s in series), "provider": provider},
    )
