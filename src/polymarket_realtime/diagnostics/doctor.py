"""Connection diagnostics: the ``doctor`` CLI subcommand and the ``diagnose_connection`` tool.

:func:`diagnose` runs every check and returns a :class:`DoctorReport`; each :class:`Check` is ``ok``,
``warn``, ``fail`` or ``skip`` with a detail line and, unless ok, one sentence on what to do. Checks:
CLOB REST and clock skew (``GET /time``), Gamma, the market / user / RTDS sockets (open, subscribe,
``PING`` answered), PolyBolt (open, ``auth`` accepted), the sports socket (open; a warning only), the
private key and ``POLYGON_ADDRESS``, whether the API credentials authenticate (``GET /data/orders``),
signature type / funder sanity and the chain id. Read-only; secrets never appear in the report (the API
key is shown masked).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Final

import anyio
import httpx2

from ..auth.l1 import L1Signer
from ..clock import SYSTEM_CLOCK, Clock
from ..config import Settings
from ..errors import AuthError, VenueError
from ..venues.polymarket.credentials import CredentialManager
from ..venues.polymarket.gamma import deprecation_notice
from .doctor_polybolt import check_polybolt_socket
from .report import Check, DoctorReport
from .sockets import check_market_socket, check_rtds_socket, check_sports_socket, check_user_socket

__all__ = ["Check", "DoctorReport", "diagnose"]

logger = logging.getLogger(__name__)

SKEW_WARN_S: Final = 3.0
"""``GET /time`` has one-second resolution; beyond this the local clock is really off."""
PRODUCTION_CLOB: Final = "https://clob.polymarket.com"


async def diagnose(
    settings: Settings,
    *,
    credentials: CredentialManager | None = None,
    http: httpx2.AsyncClient | None = None,
    timeout_s: float = 5.0,
    clock: Clock = SYSTEM_CLOCK,
) -> DoctorReport:
    """Run every check against the endpoints in ``settings`` (production or the simulator)."""
    report = DoctorReport()
    async with httpx2.AsyncClient(timeout=timeout_s) if http is None else _borrowed(http) as client:
        await _check_clob(settings, client, report, clock)
        report.checks.append(await _check_gamma(settings, client))
        manager, key_check = _check_key(settings, credentials, client)
        report.checks.append(key_check)
        report.address = manager.address if manager is not None else settings.address
        creds_check, user_auth = await _check_credentials(settings, manager, client)
        report.checks.append(creds_check)
        sockets: list[Check] = []

        async def run_socket(probe: Callable[[], Awaitable[Check]]) -> None:
            sockets.append(await probe())

        async with anyio.create_task_group() as tg:
            tg.start_soon(run_socket, lambda: check_market_socket(settings, timeout_s))
            tg.start_soon(run_socket, lambda: check_user_socket(settings, user_auth, timeout_s))
            tg.start_soon(run_socket, lambda: check_rtds_socket(settings, timeout_s))
            tg.start_soon(run_socket, lambda: check_polybolt_socket(settings, user_auth, timeout_s))
            tg.start_soon(run_socket, lambda: check_sports_socket(settings, timeout_s))
        order = {"market socket": 0, "user socket": 1, "RTDS socket": 2, "PolyBolt socket": 3, "sports socket": 4}
        report.checks.extend(sorted(sockets, key=lambda c: order.get(c.name, 9)))
        report.checks.append(_check_wallet(settings, manager))
        report.checks.append(_check_chain(settings))
    return report


class _borrowed:
    """``async with`` over a client the caller owns (not closed here)."""

    def __init__(self, client: httpx2.AsyncClient) -> None:
        self._client = client

    async def __aenter__(self) -> httpx2.AsyncClient:
        return self._client

    async def __aexit__(self, *exc: object) -> None:
        return None


async def _check_clob(settings: Settings, client: httpx2.AsyncClient, report: DoctorReport, clock: Clock) -> None:
    url = settings.clob_url + "/time"
    try:
        before = clock.time_ns() / 1e9
        response = await client.get(url)
        after = clock.time_ns() / 1e9
        server = float(response.text.strip().strip('"'))
    except httpx2.TransportError as exc:
        report.checks.append(
            Check(
                "CLOB REST",
                "fail",
                f"cannot reach {url} ({type(exc).__name__})",
                "Check your network/proxy, or POLYMARKET_CLOB_URL if you changed it.",
            )
        )
        report.checks.append(Check("clock skew", "skip", "needs GET /time"))
        return
    except ValueError:
        report.checks.append(
            Check(
                "CLOB REST",
                "fail",
                f"GET {url} answered HTTP {response.status_code} without a time",
                "POLYMARKET_CLOB_URL must point at the CLOB host (https://clob.polymarket.com).",
            )
        )
        report.checks.append(Check("clock skew", "skip", "needs GET /time"))
        return
    report.checks.append(Check("CLOB REST", "ok", f"{settings.clob_url} reachable"))
    skew = server - (before + after) / 2
    report.clock_skew_s = round(skew, 1)
    if abs(skew) <= SKEW_WARN_S:
        report.checks.append(Check("clock skew", "ok", f"local clock within {abs(skew):.1f} s of the server"))
    else:
        side = "behind" if skew > 0 else "ahead of"
        report.checks.append(
            Check(
                "clock skew",
                "warn",
                f"local clock is {abs(skew):.1f} s {side} the server (we sign with server "
                "time, so authentication still works)",
                "Sync the system clock (enable NTP, e.g. `timedatectl set-ntp true`) so other tools work too.",
            )
        )


async def _check_gamma(settings: Settings, client: httpx2.AsyncClient) -> Check:
    """Gamma's keyset list and single-market route answer; their deprecation headers are reported.

    The offset lists (``/markets?offset=``) are deprecated and never used, so they are not probed.
    """
    url = settings.gamma_url + "/markets/keyset"
    notices: dict[str, dict[str, str]] = {}
    try:
        response = await client.get(url, params={"limit": "1"})
        if (notice := deprecation_notice(response.headers)) and response.status_code < 500:
            notices["/markets/keyset"] = notice
        markets = response.json().get("markets") if response.status_code == 200 else None
        slug = (
            markets[0].get("slug") if isinstance(markets, list) and markets and isinstance(markets[0], dict) else None
        )
        if isinstance(slug, str) and slug:
            single = await client.get(f"{settings.gamma_url}/markets/slug/{slug}")
            if notice := deprecation_notice(single.headers):
                notices["/markets/slug/{slug}"] = notice
    except httpx2.TransportError as exc:
        return Check(
            "Gamma API",
            "fail",
            f"cannot reach {url} ({type(exc).__name__})",
            "Check your network, or POLYMARKET_GAMMA_URL if you changed it.",
        )
    except ValueError:
        return Check("Gamma API", "fail", f"GET {url} did not answer JSON", "POLYMARKET_GAMMA_URL must point at Gamma.")
    if response.status_code != 200:
        return Check(
            "Gamma API",
            "fail",
            f"GET {url} answered HTTP {response.status_code}",
            "POLYMARKET_GAMMA_URL must point at https://gamma-api.polymarket.com.",
        )
    if notices:
        shown = "; ".join(
            f"{route}: " + ", ".join(f"{k}: {v}" for k, v in notice.items()) for route, notice in notices.items()
        )
        return Check(
            "Gamma API",
            "warn",
            f"{settings.gamma_url} reachable, but Gamma marks routes this server uses as deprecated ({shown})",
            "Check for a newer polymarket-realtime-mcp release; the server log names every deprecated route it meets.",
        )
    return Check("Gamma API", "ok", f"{settings.gamma_url} reachable (keyset and slug routes, no deprecation notice)")


def _check_key(
    settings: Settings, given: CredentialManager | None, client: httpx2.AsyncClient
) -> tuple[CredentialManager | None, Check]:
    if given is not None and not given.configured:
        given = None
    if settings.private_key is None:
        manager = given or (CredentialManager(settings, http=client) if settings.has_api_credentials else None)
        return manager, Check(
            "private key / address",
            "skip",
            "POLYGON_PRIVATE_KEY not set",
            "Set POLYGON_PRIVATE_KEY to derive API credentials automatically (optional).",
        )
    try:
        signer = L1Signer(settings.private_key, settings.chain_id)
    except AuthError as exc:
        return None, Check(
            "private key / address",
            "fail",
            str(exc),
            "Export the wallet's private key again: 64 hex characters, with or without 0x.",
        )
    if settings.address and settings.address.lower() != signer.address.lower():
        return None, Check(
            "private key / address",
            "fail",
            f"POLYGON_ADDRESS {settings.address} is not the key's address {signer.address}",
            "Set POLYGON_ADDRESS to the signer address above (put a proxy/deposit wallet in POLYMARKET_FUNDER), "
            "or unset it.",
        )
    manager = given or CredentialManager(settings, http=client)
    shown = "matches POLYGON_ADDRESS" if settings.address else "POLYGON_ADDRESS not set"
    return manager, Check("private key / address", "ok", f"key controls {signer.address} ({shown})")


async def _check_credentials(
    settings: Settings, manager: CredentialManager | None, client: httpx2.AsyncClient
) -> tuple[Check, dict[str, str] | None]:
    from ..venues.polymarket.user_rest import UserRestClient

    if manager is None:
        if settings.private_key is not None:
            return Check("API credentials", "skip", "fix the private key / address first"), None
        return Check(
            "API credentials",
            "skip",
            "no credentials configured",
            "Set POLYGON_PRIVATE_KEY (or the POLYMARKET_API_KEY/SECRET/PASSPHRASE trio) to watch your "
            "own orders and trades.",
        ), None
    try:
        creds = await manager.get()
        await UserRestClient(settings.clob_url, manager, client).check()
    except AuthError as exc:
        return Check("API credentials", "fail", str(exc), _credentials_fix(settings, manager, exc)), None
    except VenueError as exc:
        return Check(
            "API credentials", "fail", f"could not verify: {exc}", "Fix the CLOB REST check above first."
        ), None
    detail = f"authenticated (key {creds.api_key.masked()}, from {manager.source})"
    if manager.source in {"file", "derived"} and manager.file_path is not None:
        detail += f"; saved in {manager.file_path}"
    return Check("API credentials", "ok", detail), creds.user_channel_auth()


def _credentials_fix(settings: Settings, manager: CredentialManager, exc: AuthError) -> str:
    """One sentence matching what actually went wrong (not every failure is a bad environment trio)."""
    if manager.address is None:
        return (
            "Set POLYGON_ADDRESS to the signer address the API key belongs to (the REST endpoints need it), "
            "or set POLYGON_PRIVATE_KEY instead."
        )
    if "base64" in str(exc):
        return (
            "POLYMARKET_API_SECRET must be the base64 secret issued with the API key: copy it again, or unset the "
            "POLYMARKET_API_* trio and set POLYGON_PRIVATE_KEY so credentials are derived."
        )
    if manager.source == "env" or (settings.has_api_credentials and manager.signer is None):
        return (
            "Unset the POLYMARKET_API_* trio and let the server derive credentials from POLYGON_PRIVATE_KEY "
            "(Builder keys from the website do not work)."
        )
    chain = (
        f"Check POLYMARKET_CHAIN_ID ({settings.chain_id}) matches the CLOB host {settings.clob_url} "
        "(137 for Polygon / clob.polymarket.com, 80002 for Amoy)"
    )
    if manager.source is None:  # creating and deriving a key both failed: the L1 signature was refused
        return f"{chain}, and that POLYGON_PRIVATE_KEY is the signer key of the wallet you trade with."
    where = f"delete {manager.file_path} to force a fresh derivation" if manager.file_path else "restart the server"
    return f"{chain}; then {where}."


def _check_wallet(settings: Settings, manager: CredentialManager | None) -> Check:
    signer = manager.signer.address if manager is not None and manager.signer is not None else settings.address
    kind = {0: "EOA", 1: "POLY_PROXY", 2: "GNOSIS_SAFE", 3: "POLY_1271 deposit wallet"}[settings.signature_type]
    funder = settings.funder
    note = " (only orders use these; this server is read-only)"
    if settings.signature_type == 0:
        if funder and signer and funder.lower() != signer.lower():
            return Check(
                "signature type / funder",
                "warn",
                f"signature type 0 (EOA) but POLYMARKET_FUNDER {funder} differs from the signer {signer}",
                "For a proxy or deposit wallet set POLYMARKET_SIGNATURE_TYPE to 1, 2 or 3; for a plain "
                "EOA unset POLYMARKET_FUNDER.",
            )
        return Check("signature type / funder", "ok", f"{kind}: funds held by the signer{note}")
    if not funder:
        return Check(
            "signature type / funder",
            "warn",
            f"signature type {settings.signature_type} ({kind}) without POLYMARKET_FUNDER",
            "Set POLYMARKET_FUNDER to the wallet address shown on polymarket.com (it holds the funds).",
        )
    if signer and funder.lower() == signer.lower():
        return Check(
            "signature type / funder",
            "warn",
            f"{kind} funder equals the signer {signer}",
            "POLYMARKET_FUNDER should be the proxy/deposit wallet shown on polymarket.com, not the "
            "signer; or use POLYMARKET_SIGNATURE_TYPE=0.",
        )
    return Check("signature type / funder", "ok", f"{kind}: funder {funder}{note}")


def _check_chain(settings: Settings) -> Check:
    if settings.chain_id == 80002 and settings.clob_url.rstrip("/") == PRODUCTION_CLOB:
        return Check(
            "chain id",
            "warn",
            "POLYMARKET_CHAIN_ID=80002 (Amoy) against the production CLOB host",
            "Set POLYMARKET_CHAIN_ID=137 for clob.polymarket.com; L1 signatures for 80002 are rejected.",
        )
    return Check("chain id", "ok", f"{settings.chain_id} ({'Polygon' if settings.chain_id == 137 else 'Amoy'})")
