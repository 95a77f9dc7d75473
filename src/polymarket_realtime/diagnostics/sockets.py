"""The doctor's socket checks: open each venue socket, subscribe where there is a frame to send, and wait for
``PONG`` (market and user) or just the handshake (RTDS, sports)."""

from __future__ import annotations

import json
import logging
from typing import Literal
from urllib.parse import urlsplit

import anyio
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from ..config import Settings
from .report import Check, Status

__all__ = ["check_market_socket", "check_rtds_socket", "check_sports_socket", "check_user_socket", "ws_proxy"]

# websockets logs every frame at DEBUG, and the user-channel frame carries the credential trio: give
# its logger an explicit level so a DEBUG root logger cannot pull frames into the logs.
_WS_LOGGER = logging.getLogger(__name__ + ".websockets")
_WS_LOGGER.setLevel(logging.INFO)


def ws_proxy(url: str) -> Literal[True] | None:
    """Environment proxies apply to the venue, never to the loopback simulator (as in the feed)."""
    return None if urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1") else True


async def _probe_socket(url: str, first_frame: str | None, timeout_s: float) -> tuple[Status, str]:
    """Open ``url``, send ``first_frame`` then ``PING``; ok when ``PONG`` comes back."""
    try:
        with anyio.fail_after(timeout_s):
            async with connect(
                url, open_timeout=timeout_s, compression=None, proxy=ws_proxy(url), logger=_WS_LOGGER, max_size=None
            ) as ws:
                if first_frame is not None:
                    await ws.send(first_frame)
                await ws.send("PING")
                while True:
                    frame = await ws.recv()
                    if isinstance(frame, str) and frame.strip().upper() == "PONG":
                        return "ok", "open, subscribed, PING answered"
    except TimeoutError:
        return "warn", f"no PONG within {timeout_s:.0f} s (the socket opened)"
    except ConnectionClosed as exc:
        return "fail", f"closed by the server after subscribing (code {exc.rcvd.code if exc.rcvd else 'none'})"
    except InvalidStatus as exc:
        return "fail", f"handshake refused with HTTP {exc.response.status_code}"
    except (OSError, WebSocketException) as exc:
        return "fail", f"cannot connect ({type(exc).__name__})"


async def check_market_socket(settings: Settings, timeout_s: float) -> Check:
    status, detail = await _probe_socket(
        settings.market_ws_url, json.dumps({"type": "market", "assets_ids": [], "initial_dump": True}), timeout_s
    )
    fix = (
        "" if status == "ok" else "Check that websockets to POLYMARKET_CLOB_WS_URL are not blocked by a proxy/firewall."
    )
    return Check("market socket", status, f"{settings.market_ws_url}: {detail}", fix)


async def check_user_socket(settings: Settings, auth: dict[str, str] | None, timeout_s: float) -> Check:
    url = settings.user_ws_url
    if auth is None:
        status, detail = await _probe_socket(url, None, timeout_s)
        if status == "fail":
            return Check(
                "user socket",
                "fail",
                f"{url}: {detail}",
                "Check that websockets to POLYMARKET_CLOB_WS_URL are not blocked.",
            )
        return Check("user socket", "skip", f"{url} reachable; not subscribed (no working credentials)")
    frame = json.dumps({"type": "user", "auth": auth, "markets": []}, separators=(",", ":"))
    status, detail = await _probe_socket(url, frame, timeout_s)
    if status == "fail" and "closed by the server" in detail:
        return Check(
            "user socket",
            "fail",
            f"{url}: credentials rejected ({detail})",
            "The user channel accepts only keys derived from this signer key: delete the saved "
            "credentials file or unset POLYMARKET_API_*, and let them be derived again.",
        )
    fix = "" if status == "ok" else "Check that websockets to POLYMARKET_CLOB_WS_URL are not blocked."
    return Check("user socket", status, f"{url}: {detail}", fix)


async def check_rtds_socket(settings: Settings, timeout_s: float) -> Check:
    return await _check_opens(
        "RTDS socket",
        settings.rtds_ws_url,
        timeout_s,
        "fail",
        "Check that websockets to POLYMARKET_RTDS_WS_URL are not blocked by a proxy/firewall.",
    )


async def check_sports_socket(settings: Settings, timeout_s: float) -> Check:
    return await _check_opens(
        "sports socket",
        settings.sports_ws_url,
        timeout_s,
        "warn",  # only the sports scores tool needs it: not a reason to call the setup broken
        "Check that websockets to POLYMARKET_SPORTS_WS_URL are not blocked by a proxy/firewall "
        "(only subscribe_sports_scores needs it).",
    )


async def _check_opens(name: str, url: str, timeout_s: float, failed: Status, fix: str) -> Check:
    """A socket that is only opened and closed (no subscription frame to check): ok when the handshake succeeds."""
    try:
        with anyio.fail_after(timeout_s):
            async with connect(url, open_timeout=timeout_s, compression=None, proxy=ws_proxy(url), logger=_WS_LOGGER):
                pass
    except (TimeoutError, OSError, WebSocketException) as exc:
        return Check(name, failed, f"{url}: cannot connect ({type(exc).__name__})", fix)
    return Check(name, "ok", f"{url}: open")
