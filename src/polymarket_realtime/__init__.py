"""Live Polymarket data for MCP clients, over the real venue protocol, with paper-only trading."""

from __future__ import annotations

from .config import Settings
from .errors import PolymarketRealtimeError

__all__ = ["PolymarketRealtimeError", "Settings", "__version__"]

__version__ = "0.1.0"
