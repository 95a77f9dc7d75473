"""The ``doctor`` check of PolyBolt (reference prices): reachable, and do the API credentials authenticate?"""

from __future__ import annotations

import json
import logging

import anyio
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from ..config import Settings
from ..venues.polymarket import polybolt as pb
from .report import Check
from .sockets import ws_proxy

__all__ = ["check_polybolt_socket"]

# The auth frame carries the credential trio: never let websockets' DEBUG frame logging see it.
_WS_LOGGER = logging.getLogger(__name__ + ".websockets")
_WS_LOGGER.setLevel(logging.INFO)
NAME = "PolyBolt socket"
_BLOCKED = "Check that websockets to POLYMARKET_POLYBOLT_WS_URL are not blocked by a proxy/firewall."
_REFUSED = (
    "PolyBolt takes the CLOB API credentials (not website Builder keys): unset POLYMARKET_API_* and set "
    "POLYGON_PRIVATE_KEY so they are derived, or copy the trio again."
)


async def check_polybolt_socket(settings: Settings, auth: dict[str, str] | None, timeout_s: float) -> Check:
    """Open the socket; with credentials send ``auth`` and expect ``authed``, else just ``ping``/``pong``."""
    url = settings.polybolt_ws_url
    try:
        with anyio.fail_after(timeout_s):
            async with connect(
                url, open_timeout=timeout_s, compression=None, proxy=ws_proxy(url), logger=_WS_LOGGER
            ) as ws:
                if auth is None:
                    await ws.send(pb.ping_frame("doctor"))
                    while json.loads(await ws.recv()).get("op") != "pong":
                        pass
                    return Check(
                        NAME,
                        "skip",
                        f"{url} reachable; not authenticated (no working credentials)",
                        "Reference prices need API credentials: set POLYGON_PRIVATE_KEY (or POLYMARKET_API_*).",
                    )
                await ws.send(pb.auth_frame("doctor", auth["apiKey"], auth["secret"], auth["passphrase"]))
                while True:
                    answer = pb.decode(await ws.recv(), 0)
                    if answer.op == "authed":
                        return Check(NAME, "ok", f"{url}: open, credentials accepted (authed)")
                    if answer.kind == "error" and answer.code == "auth_unavailable":
                        return Check(
                            NAME,
                            "warn",
                            f"{url}: PolyBolt cannot verify credentials right now (auth_unavailable)",
                            "A venue-side problem: retry later; the server retries on its own.",
                        )
                    if answer.kind == "error":
                        return Check(NAME, "fail", f"{url}: credentials refused ({answer.code})", _REFUSED)
    except TimeoutError:
        return Check(NAME, "warn", f"{url}: no answer within {timeout_s:.0f} s (the socket opened)", _BLOCKED)
    except ConnectionClosed as exc:
        code = exc.rcvd.code if exc.rcvd else None
        if code == 4001:
            return Check(NAME, "fail", f"{url}: credentials refused (close 4001)", _REFUSED)
        return Check(NAME, "fail", f"{url}: closed by the server (code {code or 'none'})", _BLOCKED)
    except InvalidStatus as exc:
        status = exc.response.status_code
        if status in (429, 503):
            after = exc.response.headers.get("Retry-After", "?")
            return Check(NAME, "warn", f"{url}: busy (HTTP {status}, Retry-After {after})", "Retry later.")
        return Check(NAME, "fail", f"{url}: handshake refused with HTTP {status}", _BLOCKED)
    except (OSError, WebSocketException, ValueError) as exc:
        return Check(NAME, "fail", f"{url}: cannot connect ({type(exc).__name__})", _BLOCKED)
