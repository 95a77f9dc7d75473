"""The user channel: one authenticated socket for the account's orders and trades, and its gap recovery.

The market list is ref-counted in :class:`~.desired.DesiredSubscriptions` (empty = all markets, which
the venue has no frame to widen or narrow to: the socket reconnects instead). After a reconnect the
orders/trades the socket did not replay are re-read over REST (:mod:`.user_gap`).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable

import anyio

from ..errors import AuthError, PolymarketRealtimeError
from ..model.conditions import condition_key, normalize_condition_id
from ..venues.polymarket import protocol
from ..venues.polymarket.parsing import parse_user_frame
from .backoff import Backoff
from .channel_host import ChannelHost
from .connection import ChannelSpec, FeedConnection
from .contract import CredentialsProvider, UserChannelState
from .keepalive import Sleep
from .user_gap import UserGapReconciler, UserRestSource

__all__ = ["USER_REJECTED_ADVICE", "UserChannel"]

logger = logging.getLogger(__name__)
_GAP_ATTEMPTS = 5  # REST re-reads after a reconnect before the gap is reported as not recoverable

USER_REJECTED_ADVICE = (
    "use API credentials derived from your trading key: set POLYGON_PRIVATE_KEY and unset "
    "POLYMARKET_API_KEY/POLYMARKET_API_SECRET/POLYMARKET_PASSPHRASE so the server derives them "
    "(website Builder keys do not work on the user channel); diagnose_connection shows details"
)
"""Shown in ``feed_status`` and ``last_error`` when the user socket keeps rejecting the credentials."""


class UserChannel:
    """The account's socket: credentials, market list, first-attempt outcome and reconnect recovery."""

    def __init__(self, host: ChannelHost, *, sleep: Sleep = anyio.sleep, rng: random.Random | None = None) -> None:
        self._host = host
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()
        self.conn: FeedConnection | None = None
        self.provider: CredentialsProvider | None = None
        self.gap: UserGapReconciler | None = None
        self.gap_due: FeedConnection | None = None
        """The socket that reconnected and owes a reconciliation once it proves alive (first frame):
        a socket closed right after auth (rejected credentials) must not trigger REST reads."""

    def set_credentials_provider(self, provider: CredentialsProvider | None) -> None:
        self.provider = provider

    def set_rest(self, source: UserRestSource | None) -> None:
        """Account reads used to recover what the user socket missed while it was down (None: no recovery)."""
        self.gap = UserGapReconciler(source) if source is not None else None

    def auth_problem(self) -> str | None:
        """Why the user socket cannot authenticate (with advice), or None when no problem is known."""
        return self.conn.auth_problem if self.conn is not None else None

    async def wait_first_attempt(self, timeout_s: float) -> None:
        """Wait (bounded) until the user socket's first attempt has an outcome: accepted, refused or failed."""
        conn = self.conn
        if conn is None or timeout_s <= 0:
            return
        with anyio.move_on_after(timeout_s):
            await conn.first_attempt_settled.wait()

    def state(self) -> UserChannelState:
        """``(status, detail)`` of the user socket for a subscription's answer.

        ``active`` (the venue answered: credentials accepted), ``rejected`` (the last attempt's credentials
        were refused, or they keep being refused), ``retrying`` (the last attempt failed otherwise) or
        ``connecting`` (no outcome yet).
        """
        conn = self.conn
        if conn is None:
            return "connecting", ""
        if conn.auth_problem:
            return "rejected", conn.auth_problem
        if conn.healthy:
            return "active", ""
        if conn.rejected:
            return "rejected", conn.last_error or "the venue refused the credentials"
        if conn.first_attempt_settled.is_set() and conn.last_error:
            return "retrying", f"the user socket's last attempt failed ({conn.last_error}); retrying with backoff"
        return "connecting", "the user socket has not been answered yet; events arrive once it is up"

    async def subscribe(self, condition_ids: Iterable[str]) -> None:
        """Watch the account's orders/trades in these markets (empty = all markets). Ref-counted."""
        # The user channel takes the CLOB's 64-hex form; a 62-hex V2 id is padded here.
        ids = list(dict.fromkeys(normalize_condition_id(cid) for cid in condition_ids))
        if self.provider is None:
            raise AuthError(
                "The user channel needs API credentials: set POLYGON_PRIVATE_KEY (credentials are derived) or "
                "POLYMARKET_API_KEY, POLYMARKET_API_SECRET and POLYMARKET_PASSPHRASE, then restart the server."
            )
        async with self._host.lock:
            if not ids:
                self._host.desired.user_all.acquire()
                fresh: list[str] = []
            else:
                fresh = self._host.desired.user.acquire(ids)
            conn = self.conn
            if conn is None:
                self.conn = self._host.open_connection(
                    "user-0", self._spec(), self._frames, assets=lambda: len(self._host.desired.user)
                )
            elif not ids and self._host.desired.user_all.count == 1 and len(self._host.desired.user):
                # Widen from some markets to all: the venue has no frame for that, reconnect.
                conn.force_reconnect("widening the user channel to all markets")
            elif fresh and self._host.desired.user_all.count == 0:
                await conn.send(protocol.user_subscribe_frame(fresh))

    async def unsubscribe(self, condition_ids: Iterable[str]) -> None:
        ids = list(dict.fromkeys(condition_key(cid) for cid in condition_ids))
        async with self._host.lock:
            if not ids:
                if self._host.desired.user_all.count == 0:
                    return
                self._host.desired.user_all.release()
                gone: list[str] = []
            else:
                gone = self._host.desired.user.release(ids)
            conn = self.conn
            if conn is None:
                return
            if self._host.desired.user_all.count == 0 and not len(self._host.desired.user):
                # An empty market list means "all markets" at the venue: close instead of widening.
                self.conn = None
                self._host.close_connection(conn)
            elif not ids and self._host.desired.user_all.count == 0:
                conn.force_reconnect("narrowing the user channel to the remaining markets")
            elif gone and self._host.desired.user_all.count == 0:
                await conn.send(protocol.user_unsubscribe_frame(gone))

    def _spec(self) -> ChannelSpec:
        s = self._host.settings
        return ChannelSpec(
            channel="user",
            url=s.user_ws_url,
            ping_interval_s=s.ping_interval_s,
            pong_timeout_s=s.pong_timeout_s,
            # an account can be quiet for days: PONG-based liveness only
            # (docs/polymarket-protocol.md#clob-ws-silent-freeze)
            idle_timeout_s=None,
            parse=parse_user_frame,
            authenticates=True,
            rejected_advice=USER_REJECTED_ADVICE,
            # The venue answers nothing to a good auth frame and resets the socket on a bad one: the first
            # PONG is the earliest proof the credentials were accepted (the first user subscription waits on it).
            ping_on_open=True,
        )

    async def _frames(self, refresh: bool) -> list[str]:
        provider = self.provider
        if provider is None:
            raise AuthError("no user-channel credentials provider is configured")
        try:
            creds = await provider(refresh)
        except Exception as exc:
            # The attempt fails before any socket exists, so no disconnect hook runs: report it here.
            # (Error texts are secret-free by construction; the router's consumers see the advice.)
            conn = self.conn
            if conn is not None and not conn.stopped:
                detail = f"user channel: could not get API credentials: {exc}"
                if isinstance(exc, AuthError):
                    if "Builder" not in detail:  # rejected_error() already says it for an env trio
                        detail += f" ({USER_REJECTED_ADVICE})"
                    detail += "; retrying with backoff"
                    conn.auth_problem = detail
                else:
                    detail += "; retrying with backoff"
                self._host.route_status(conn, "disconnected", detail, ())
            raise
        markets = [] if self._host.desired.user_all.count else sorted(self._host.desired.user.wanted())
        return [
            protocol.user_initial_frame(
                creds.api_key.reveal(), creds.secret.reveal(), creds.passphrase.reveal(), markets
            )
        ]

    async def reconcile(self, conn: FeedConnection, gap: UserGapReconciler) -> None:
        """After a user-socket reconnect: emit the order/trade changes the socket did not replay.

        A failed REST re-read is said on the user channel (``feed_status`` ``lossy``) and retried with a
        bounded backoff: the subscribers must not believe the gap was closed when it was not.
        """
        markets = None if self._host.desired.user_all.count else sorted(self._host.desired.user.wanted())
        backoff = Backoff(self._host.settings.reconnect_base_s, self._host.settings.reconnect_max_s, self._rng)
        attempt = 0
        while True:
            attempt += 1
            try:
                events = await gap.reconcile(markets, self._host.clock.time_ns())
                break
            except PolymarketRealtimeError as exc:
                gap.errors += 1
                self._host.stats.rest_errors += 1
                logger.warning(
                    "%s: could not re-read orders and trades after reconnecting: %s", conn.connection_id, exc
                )
                problem = str(exc)
            except Exception as exc:
                # A bug here must not take the feed's task group (and every socket) down with it.
                gap.errors += 1
                logger.exception("%s: user-channel gap reconciliation failed", conn.connection_id)
                problem = f"internal error {type(exc).__name__}"
            if conn.stopped or self.conn is not conn:
                return  # that socket is gone; its successor reconciles for itself
            if attempt >= _GAP_ATTEMPTS:
                detail = (
                    f"gap not reconciled: {problem}; gave up after {attempt} attempts: order/trade changes made "
                    "while the user socket was down may be missing (get_open_orders/get_trades re-read them)"
                )
                self._host.route_status(conn, "lossy", detail, ())
                return
            delay = backoff.next_delay()
            detail = f"gap not reconciled: {problem}; retrying in {delay:.2f}s (attempt {attempt}/{_GAP_ATTEMPTS})"
            self._host.route_status(conn, "lossy", detail, ())
            await self._sleep(delay)
        for event in events:
            self._host.stats.count_type(event.type)
            self._host.router.route(event)
        self._host.stats.record_events(len(events))
        if events:
            logger.info(
                "%s: %d order/trade change(s) made while disconnected, recovered over REST",
                conn.connection_id,
                len(events),
            )
