"""Frozen settings, read once at start-up from the environment and an optional ``.env`` file.

Over 400 lines: every setting and its environment parser in one frozen struct, the one place
``.env.example`` is checked against (tests/unit/test_config.py).

Only :func:`Settings.from_env` looks at the environment; everything else receives a :class:`Settings`.
Process environment wins over the ``.env`` file. Every invalid value fails at start-up with a
:class:`~polymarket_realtime.errors.ConfigError` naming the variable. Units are in the names.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, TypeVar
from urllib.parse import urlparse

from .errors import ConfigError
from .secrets import Secret, redactor

__all__ = ["DEFAULT_DATA_DIR", "DEFAULT_TOOLSETS", "TOOLSETS", "Settings", "load_dotenv_file"]

DEFAULT_DATA_DIR: Final = Path.home() / ".local" / "share" / "polymarket-realtime-mcp"
TOOLSETS: Final = ("market", "realtime", "user", "paper", "agents", "system", "recording")
DEFAULT_TOOLSETS: Final = ("market", "realtime", "paper", "system")
"""What a first-time user needs: find markets, stream them, paper-trade, see status. The rest (user:
needs credentials; agents; recording) is one ``enable_toolsets`` call or POLYMARKET_MCP_TOOLSETS away,
and stays out of every conversation's tool list until then (issue 11's context budget)."""

_T = TypeVar("_T")
_SECRET_VARIABLES = frozenset(
    {
        "POLYGON_PRIVATE_KEY",
        "POLYMARKET_API_KEY",
        "POLYMARKET_API_SECRET",
        "POLYMARKET_PASSPHRASE",
        "POLYMARKET_MCP_REDIS_URL",
    }
)
_HEX64 = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_REDIS_NAME = re.compile(r"^[A-Za-z0-9:_.\-]{1,64}$")
MIN_COMMENTS_POLL_S: Final = 2.0
"""Lower bound of ``comments_poll_s``: keeps the comments poller inside Gamma's 200 req / 10 s ``/comments`` limit."""
MAX_COMMENTS_POLL_S: Final = 600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    # Endpoints (the same binary points at production, the simulator or a replay).
    clob_ws_url: str = "wss://ws-subscriptions-clob.polymarket.com/ws"
    """Base of the CLOB sockets; the client appends ``/market`` and ``/user``."""
    rtds_ws_url: str = "wss://ws-live-data.polymarket.com"
    """RTDS keeps only what has no PolyBolt channel (``activity``); no price topic goes there."""
    polybolt_ws_url: str = "wss://ws-live-v2.polymarket.com/ws"
    """PolyBolt: authenticated reference prices (crypto, equity, their 60 s TWAPs)."""
    sports_ws_url: str = "wss://sports-api.polymarket.com/ws"
    """Sports scores socket (public; the server pings us every 5 s, we answer ``pong``)."""
    clob_url: str = "https://clob.polymarket.com"
    gamma_url: str = "https://gamma-api.polymarket.com"
    data_dir: Path = DEFAULT_DATA_DIR

    # Timing (seconds).
    ping_interval_s: float = 10.0
    pong_timeout_s: float = 30.0
    reconnect_base_s: float = 1.0
    reconnect_max_s: float = 60.0
    market_idle_timeout_s: float = 60.0
    rtds_ping_interval_s: float = 5.0
    rtds_idle_timeout_s: float = 60.0
    sports_silence_timeout_s: float = 20.0
    """Sports socket: no server ``ping`` and no game update for this long -> reconnect."""
    snapshot_fallback_s: float = 5.0
    """After (re)subscribing, fetch ``POST /books`` for assets with no ``book`` within this time."""
    resolution_poll_s: float = 60.0
    """Gamma poll interval for the market-resolution fallback."""
    book_warmup_s: float = 5.0
    """``create_paper_session``/``start_agent`` wait up to this long for their tokens' books (0 = no wait)."""
    order_book_wait_s: float = 3.0
    """``place_paper_order`` on a book still warming up waits up to this long before refusing (0 = no wait)."""
    user_first_status_s: float = 5.0
    """A user subscription's answer waits up to this long for the user socket's first attempt (0 = no wait)."""
    comments_poll_s: float = 10.0
    """How often ``subscribe_comments`` polls Gamma ``GET /comments`` (2-600 s; comments are not streamed)."""
    http_timeout_s: float = 10.0

    # Limits.
    max_assets_per_connection: int = 200
    event_buffer_size: int = 1000
    """Events retained per subscription log."""
    max_frame_bytes: int = 4 * 1024 * 1024

    # MCP surface.
    toolsets: frozenset[str] = frozenset(DEFAULT_TOOLSETS)
    log_level: str = "INFO"

    # Credentials: user channel and read-only account endpoints only. Never used to trade.
    private_key: Secret | None = None
    address: str | None = None
    api_key: Secret | None = None
    api_secret: Secret | None = None
    passphrase: Secret | None = None
    chain_id: int = 137
    signature_type: int = 0
    funder: str | None = None

    # Shared feed through Redis (None = embedded single-process mode).
    redis_url: Secret | None = None
    redis_prefix: str = "pmrt:"
    """Key namespace shared by ``feed`` and ``serve``; several deployments can share one Redis."""
    redis_lease_ttl_s: float = 15.0
    """How long a crashed server's subscriptions outlive it (leases are renewed at a third of this)."""
    redis_consumer: str | None = None
    """Stable consumer name: a restarted server resumes from its saved stream cursors (no loss, no repeat)."""

    # History retention (agent logs, alerts, activity feed; storage/retention.py). 0 = that limit off.
    retention_days: float = 30.0
    """Rows older than this are pruned."""
    retention_agent_log_rows: int = 20_000
    """Newest log lines (and, separately, alerts) kept per agent."""
    retention_activity_rows: int = 20_000
    """Newest activity entries kept per subject (a session, an agent or ``system``)."""
    retention_interval_s: float = 600.0
    """How often pruning runs (in the background, off the event path)."""

    # Control room (issue 13; http/host.py): the dashboard app beside the stdio server.
    dashboard: str | None = None
    """``host:port`` to serve the dashboard, JSON API and MCP over HTTP on, beside stdio (None = off)."""
    dashboard_allow_remote: bool = False
    """Allow a non-loopback dashboard host (the token is still required on every route)."""

    extra: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def market_ws_url(self) -> str:
        return self.clob_ws_url.rstrip("/") + "/market"

    @property
    def user_ws_url(self) -> str:
        return self.clob_ws_url.rstrip("/") + "/user"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "state.sqlite3"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def recordings_dir(self) -> Path:
        return self.data_dir / "recordings"

    @property
    def has_api_credentials(self) -> bool:
        return bool(self.api_key and self.api_secret and self.passphrase)

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]  # kwargs checked by dataclasses

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, env_file: Path | None = None) -> Settings:
        """Build settings from ``environ`` (default ``os.environ``) over an optional ``.env`` file."""
        merged: dict[str, str] = {}
        path = env_file if env_file is not None else Path(os.environ.get("POLYMARKET_MCP_ENV_FILE", ".env"))
        if path.is_file():
            merged.update(load_dotenv_file(path))
        merged.update(os.environ if environ is None else environ)
        env = {k: v for k, v in merged.items() if v != ""}
        return _parse(env)


def load_dotenv_file(path: Path) -> dict[str, str]:
    """Parse ``KEY=VALUE`` lines; ``#`` comments, optional ``export`` and quotes. No interpolation."""
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        key, sep, value = line.partition("=")
        if not sep or not key.strip().isidentifier():
            raise ConfigError(f"{path}:{number}", "expected KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key.strip()] = value
    return values


def _get(env: Mapping[str, str], name: str, convert: Callable[[str], _T], default: _T) -> _T:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        return convert(raw.strip())
    except (ValueError, TypeError) as exc:
        shown = "(value not shown)" if name in _SECRET_VARIABLES else repr(raw)
        raise ConfigError(name, f"invalid value {shown}: {exc}") from None


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0 or value != value or value == float("inf"):
        raise ValueError("must be a positive number of seconds")
    return value


def _non_negative_float(raw: str) -> float:
    value = float(raw)
    if not value >= 0 or value == float("inf"):
        raise ValueError("must be a finite number >= 0 (0 = do not wait / no limit)")
    return value


def _comments_poll(raw: str) -> float:
    value = float(raw)
    if not MIN_COMMENTS_POLL_S <= value <= MAX_COMMENTS_POLL_S:
        raise ValueError(
            f"must be between {MIN_COMMENTS_POLL_S:g} and {MAX_COMMENTS_POLL_S:g} seconds "
            "(the lower bound keeps polling inside Gamma's /comments rate limit)"
        )
    return value


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("must be a positive integer")
    return value


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("must be an integer >= 0 (0 turns the limit off)")
    return value


def _url(schemes: tuple[str, ...]) -> Callable[[str], str]:
    def convert(raw: str) -> str:
        parsed = urlparse(raw)
        if parsed.scheme not in schemes or not parsed.netloc:
            raise ValueError(f"must be a URL starting with {' or '.join(s + '://' for s in schemes)}")
        return raw.rstrip("/")

    return convert


def _private_key(raw: str) -> Secret:
    if not _HEX64.match(raw):
        # Never echo the value: it may be a real key with a typo.
        raise ValueError("must be 64 hex characters, with or without 0x")
    bare = raw.removeprefix("0x")
    for form in {bare, bare.lower(), "0x" + bare.lower()}:
        redactor.add(form)  # a log line may show the key in any of these forms, not only as given
    return Secret("0x" + bare)


def _redis_url(raw: str) -> Secret:
    # A Redis URL may embed a password, so it is held as a secret.
    return Secret(_url(("redis", "rediss", "unix"))(raw))


def _redis_name(raw: str) -> str:
    if not _REDIS_NAME.match(raw):
        raise ValueError("must be 1-64 characters from A-Z a-z 0-9 : _ . -")
    return raw


def _address(raw: str) -> str:
    if not _ADDRESS.match(raw):
        raise ValueError("must be 0x followed by 40 hex characters")
    return raw


def _toolsets(raw: str) -> frozenset[str]:
    names = {part.strip().lower() for part in raw.split(",") if part.strip()}
    if not names:
        return frozenset(DEFAULT_TOOLSETS)
    if "all" in names:
        return frozenset(TOOLSETS)
    if "default" in names:  # e.g. "default,agents"
        names = (names - {"default"}) | set(DEFAULT_TOOLSETS)
    unknown = names - set(TOOLSETS)
    if unknown:
        raise ValueError(f"unknown toolsets {sorted(unknown)}; choose from {', '.join(TOOLSETS)} or all")
    return frozenset(names)


def _log_level(raw: str) -> str:
    level = raw.upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return level


def _choice(*allowed: int) -> Callable[[str], int]:
    def convert(raw: str) -> int:
        value = int(raw)
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(map(str, allowed))}")
        return value

    return convert


def _host_port(raw: str) -> str:
    host, sep, port = raw.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535 or " " in host:
        raise ValueError("must be host:port, e.g. 127.0.0.1:8787")
    return raw.strip()


def _flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value not in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
        raise ValueError("must be true or false")
    return value in {"1", "true", "yes", "on"}


def _parse(env: Mapping[str, str]) -> Settings:
    d = Settings()
    ws = _url(("ws", "wss"))
    http = _url(("http", "https"))
    settings = Settings(
        clob_ws_url=_get(env, "POLYMARKET_CLOB_WS_URL", ws, d.clob_ws_url),
        rtds_ws_url=_get(env, "POLYMARKET_RTDS_WS_URL", ws, d.rtds_ws_url),
        polybolt_ws_url=_get(env, "POLYMARKET_POLYBOLT_WS_URL", ws, d.polybolt_ws_url),
        sports_ws_url=_get(env, "POLYMARKET_SPORTS_WS_URL", ws, d.sports_ws_url),
        clob_url=_get(env, "POLYMARKET_CLOB_URL", http, d.clob_url),
        gamma_url=_get(env, "POLYMARKET_GAMMA_URL", http, d.gamma_url),
        data_dir=_get(env, "POLYMARKET_MCP_DATA_DIR", lambda s: Path(s).expanduser(), d.data_dir),
        ping_interval_s=_get(env, "POLYMARKET_PING_INTERVAL_S", _positive_float, d.ping_interval_s),
        pong_timeout_s=_get(env, "POLYMARKET_PONG_TIMEOUT_S", _positive_float, d.pong_timeout_s),
        reconnect_base_s=_get(env, "POLYMARKET_RECONNECT_BASE_S", _positive_float, d.reconnect_base_s),
        reconnect_max_s=_get(env, "POLYMARKET_RECONNECT_MAX_S", _positive_float, d.reconnect_max_s),
        market_idle_timeout_s=_get(env, "POLYMARKET_MARKET_IDLE_TIMEOUT_S", _positive_float, d.market_idle_timeout_s),
        rtds_ping_interval_s=_get(env, "POLYMARKET_RTDS_PING_INTERVAL_S", _positive_float, d.rtds_ping_interval_s),
        rtds_idle_timeout_s=_get(env, "POLYMARKET_RTDS_IDLE_TIMEOUT_S", _positive_float, d.rtds_idle_timeout_s),
        sports_silence_timeout_s=_get(
            env, "POLYMARKET_SPORTS_SILENCE_TIMEOUT_S", _positive_float, d.sports_silence_timeout_s
        ),
        snapshot_fallback_s=_get(env, "POLYMARKET_SNAPSHOT_FALLBACK_S", _positive_float, d.snapshot_fallback_s),
        resolution_poll_s=_get(env, "POLYMARKET_RESOLUTION_POLL_S", _positive_float, d.resolution_poll_s),
        book_warmup_s=_get(env, "POLYMARKET_BOOK_WARMUP_S", _non_negative_float, d.book_warmup_s),
        order_book_wait_s=_get(env, "POLYMARKET_ORDER_BOOK_WAIT_S", _non_negative_float, d.order_book_wait_s),
        user_first_status_s=_get(env, "POLYMARKET_USER_FIRST_STATUS_S", _non_negative_float, d.user_first_status_s),
        comments_poll_s=_get(env, "POLYMARKET_COMMENTS_POLL_S", _comments_poll, d.comments_poll_s),
        http_timeout_s=_get(env, "POLYMARKET_HTTP_TIMEOUT_S", _positive_float, d.http_timeout_s),
        max_assets_per_connection=_get(
            env, "POLYMARKET_MAX_ASSETS_PER_CONNECTION", _positive_int, d.max_assets_per_connection
        ),
        event_buffer_size=_get(env, "POLYMARKET_MCP_EVENT_BUFFER", _positive_int, d.event_buffer_size),
        max_frame_bytes=_get(env, "POLYMARKET_MAX_FRAME_BYTES", _positive_int, d.max_frame_bytes),
        toolsets=_get(env, "POLYMARKET_MCP_TOOLSETS", _toolsets, d.toolsets),
        log_level=_get(env, "POLYMARKET_MCP_LOG_LEVEL", _log_level, d.log_level),
        private_key=_get(env, "POLYGON_PRIVATE_KEY", _private_key, None),
        address=_get(env, "POLYGON_ADDRESS", _address, None),
        api_key=_get(env, "POLYMARKET_API_KEY", Secret, None),
        api_secret=_get(env, "POLYMARKET_API_SECRET", Secret, None),
        passphrase=_get(env, "POLYMARKET_PASSPHRASE", Secret, None),
        chain_id=_get(env, "POLYMARKET_CHAIN_ID", _choice(137, 80002), d.chain_id),
        signature_type=_get(env, "POLYMARKET_SIGNATURE_TYPE", _choice(0, 1, 2, 3), d.signature_type),
        funder=_get(env, "POLYMARKET_FUNDER", _address, None),
        redis_url=_get(env, "POLYMARKET_MCP_REDIS_URL", _redis_url, None),
        redis_prefix=_get(env, "POLYMARKET_MCP_REDIS_PREFIX", _redis_name, d.redis_prefix),
        redis_lease_ttl_s=_get(env, "POLYMARKET_MCP_REDIS_LEASE_TTL_S", _positive_float, d.redis_lease_ttl_s),
        redis_consumer=_get(env, "POLYMARKET_MCP_REDIS_CONSUMER", _redis_name, None),
        retention_days=_get(env, "POLYMARKET_MCP_RETENTION_DAYS", _non_negative_float, d.retention_days),
        retention_agent_log_rows=_get(
            env, "POLYMARKET_MCP_RETENTION_AGENT_LOG_ROWS", _non_negative_int, d.retention_agent_log_rows
        ),
        retention_activity_rows=_get(
            env, "POLYMARKET_MCP_RETENTION_ACTIVITY_ROWS", _non_negative_int, d.retention_activity_rows
        ),
        retention_interval_s=_get(env, "POLYMARKET_MCP_RETENTION_INTERVAL_S", _positive_float, d.retention_interval_s),
        dashboard=_get(env, "POLYMARKET_MCP_DASHBOARD", _host_port, None),
        dashboard_allow_remote=_get(env, "POLYMARKET_MCP_DASHBOARD_ALLOW_REMOTE", _flag, False),
    )
    if settings.reconnect_max_s < settings.reconnect_base_s:
        raise ConfigError("POLYMARKET_RECONNECT_MAX_S", "must be >= POLYMARKET_RECONNECT_BASE_S")
    if settings.pong_timeout_s <= settings.ping_interval_s:
        raise ConfigError("POLYMARKET_PONG_TIMEOUT_S", "must be greater than POLYMARKET_PING_INTERVAL_S")
    if settings.sports_silence_timeout_s <= 5.0:
        raise ConfigError(
            "POLYMARKET_SPORTS_SILENCE_TIMEOUT_S",
            "must be greater than 5 (the sports server pings every 5 s; 20 is a good value)",
        )
    if settings.max_assets_per_connection > 500:
        raise ConfigError(
            "POLYMARKET_MAX_ASSETS_PER_CONNECTION",
            "must be <= 500 (data stops flowing above ~500 per socket)",
        )
    creds = [settings.api_key, settings.api_secret, settings.passphrase]
    if any(creds) and not all(creds):
        raise ConfigError(
            "POLYMARKET_API_KEY",
            "set all three of POLYMARKET_API_KEY, POLYMARKET_API_SECRET and POLYMARKET_PASSPHRASE, or none",
        )
    return settings
