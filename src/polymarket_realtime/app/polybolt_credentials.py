"""Credentials for PolyBolt (reference prices) in the core server: the CLOB L2 trio from the settings."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import httpx2

from ..auth.l2 import ApiCredentials
from ..config import Settings
from ..errors import AuthError
from ..venues.polymarket.credentials import CredentialManager
from ..venues.polymarket.ratelimit import RateLimitedTransport

__all__ = ["install_polybolt_credentials"]

log = logging.getLogger(__name__)


async def install_polybolt_credentials(settings: Settings, feed: Any, stack: contextlib.AsyncExitStack) -> None:
    """Give the feed a PolyBolt credentials provider when credentials are configured (nothing fetched yet).

    The trio is derived from ``POLYGON_PRIVATE_KEY`` or taken from ``POLYMARKET_API_*`` on the first
    subscription, exactly as the user channel does.
    """
    if not (settings.private_key is not None or settings.has_api_credentials):
        return
    try:
        # Key derivation draws from the process-wide CLOB rate-limit windows, like every account read.
        transport = RateLimitedTransport("clob", settings.clob_url)
        http = await stack.enter_async_context(httpx2.AsyncClient(timeout=settings.http_timeout_s, transport=transport))
        manager = CredentialManager(settings, http=http)
    except AuthError as exc:
        log.warning("reference prices (PolyBolt) disabled: %s", exc)
        return

    async def provide(refresh: bool) -> ApiCredentials:
        return await manager.get(refresh=refresh)

    feed.set_polybolt_credentials_provider(provide)
    stack.callback(feed.set_polybolt_credentials_provider, None)
