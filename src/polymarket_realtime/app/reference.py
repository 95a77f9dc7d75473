"""Reference-price (PolyBolt) feed keys for a request, shared by the MCP tools and ``cli record``."""

from __future__ import annotations

from ..errors import InvalidInputError
from ..venues.polymarket import polybolt as pb

__all__ = ["reference_keys"]


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
