"""The dashboard token and the request checks (Host, Origin, token) shared by every route.

The token is created once at ``<data_dir>/http-token`` (mode 0600) and registered with the redactor,
so no log record can carry it. A request is allowed when its ``Host`` names this server, its
``Origin`` (if any) is this server, and it carries the token: ``Authorization: Bearer`` (API, MCP),
the ``pmrt_token_<port>`` cookie (browser; on POST only with a same-origin ``Origin``), or ``?token=``
(WebSockets, MCP clients that cannot set headers on ``/mcp``, and the login link ``GET /?token=`` that
sets the cookie).

The cookie is named per port because browsers send cookies to every port of a host: two servers on one
machine must not overwrite (or receive) each other's. It holds ``HMAC(token, "cookie")``, not the token,
and that value is accepted only as the cookie: a cookie leaked from a browser profile is not a Bearer
token for the API or ``/mcp``.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..secrets import redactor

__all__ = [
    "COOKIE",
    "COOKIE_MAX_AGE",
    "TOKEN_FILE",
    "Decision",
    "Guard",
    "cookie_name",
    "cookie_value",
    "is_loopback",
    "load_or_create_token",
    "login_link",
    "login_page",
    "wants_login_page",
]

TOKEN_FILE = "http-token"
COOKIE = "pmrt_token"
"""The cookie name's prefix; the name is ``pmrt_token_<port>`` (:func:`cookie_name`)."""
COOKIE_MAX_AGE = 30 * 24 * 3600
"""The login cookie lasts 30 days (then open the login link again); the token itself never expires."""


def load_or_create_token(data_dir: Path) -> str:
    """The token in ``<data_dir>/http-token``, created (0600, never rewritten) on first use."""
    path = data_dir / TOKEN_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        token = path.read_text(encoding="utf-8").strip()
        if len(token) < 32:
            raise ValueError(f"{path} holds no usable token; delete it to create a new one") from None
    else:
        token = secrets.token_urlsafe(32)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(token + "\n")
    os.chmod(path, 0o600)  # an existing file loosened by hand is tightened again
    redactor.add(token)
    return token


def cookie_name(port: int) -> str:
    return f"{COOKIE}_{port}"


def cookie_value(token: str) -> str:
    """What the login cookie holds: derived from the token, useless as a Bearer token."""
    return hmac.new(token.encode(), b"cookie", hashlib.sha256).hexdigest()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def login_link(host: str, port: int, token: str) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{_url_host(shown)}:{port}/?token={token}"


@dataclass(frozen=True)
class Decision:
    status: int
    """0 = allowed; else the HTTP status to answer (401/403)."""
    error: str = ""
    detail: str = ""


ALLOW = Decision(0)


@dataclass
class Guard:
    """Decides whether one request may proceed (pure: headers in, decision out)."""

    token: str
    port: int
    extra_hosts: Iterable[str] = ()
    remote: bool = False
    """Bound with ``--allow-remote``: a refused Host may just be a name to add with ``--allowed-host``."""
    _hosts: frozenset[str] = field(init=False)
    _origins: frozenset[str] = field(init=False)
    cookie_name: str = field(init=False)
    cookie_value: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.cookie_name = cookie_name(self.port)
        self.cookie_value = cookie_value(self.token)
        redactor.add(self.cookie_value)
        names = ["127.0.0.1", "localhost", "[::1]", *(_url_host(h) for h in self.extra_hosts)]
        hosts = {f"{n}:{self.port}" for n in names}
        if self.port == 80:
            hosts.update(names)
        self._hosts = frozenset(hosts)
        self._origins = frozenset(f"http://{h}" for h in hosts)

    @property
    def allowed_hosts(self) -> list[str]:
        return sorted(self._hosts)

    @property
    def allowed_origins(self) -> list[str]:
        return sorted(self._origins)

    def token_ok(self, candidate: str | None) -> bool:
        return candidate is not None and hmac.compare_digest(candidate.encode(), self.token.encode())

    def cookie_ok(self, candidate: str | None) -> bool:
        return candidate is not None and hmac.compare_digest(candidate.encode(), self.cookie_value.encode())

    def check(
        self,
        *,
        method: str,
        path: str,
        headers: Mapping[str, str],
        cookies: Mapping[str, str],
        query_token: str | None,
        websocket: bool,
    ) -> Decision:
        host = headers.get("host", "")
        if host not in self._hosts:
            # DNS rebinding: a foreign name resolving to us still carries its own Host header.
            detail = f"Host {host[:100]!r} is not this server; use the login link's address."
            if self.remote:
                detail += " If clients reach this server by that name, start it with --allowed-host NAME."
            return Decision(403, "forbidden", detail)
        origin = headers.get("origin")
        if origin is not None and origin not in self._origins:
            return Decision(403, "forbidden", "cross-site requests are refused (Origin is not this server).")
        if path == "/health":
            return ALLOW
        auth = headers.get("authorization", "")
        if auth[:7].lower() == "bearer " and self.token_ok(auth[7:].strip()):
            return ALLOW
        if self.cookie_ok(cookies.get(self.cookie_name)):
            if method in ("GET", "HEAD") or websocket or origin is not None:
                return ALLOW
            return Decision(403, "forbidden", "a cookie-authenticated POST needs this server's Origin header.")
        # ?token= where a header cannot be set: browsers opening WebSockets, the login link, and MCP
        # clients without header support (the MCP Inspector CLI's HTTP transport).
        if (websocket or path == "/mcp" or (path == "/" and method == "GET")) and self.token_ok(query_token):
            return ALLOW
        return Decision(
            401,
            "unauthorized",
            "missing or wrong token: send 'Authorization: Bearer <token>' (the token is in <data_dir>/http-token; "
            "`polymarket-realtime-mcp http-token` prints the login link).",
        )


def wants_login_page(method: str, path: str) -> bool:
    """A browser opening the dashboard (not an API, MCP or WebSocket client) gets the HTML 401 page."""
    return method in ("GET", "HEAD") and path in ("/", "/index.html")


def login_page() -> str:
    """The 401 page for a browser without the cookie: how to get the login link (no token in it)."""
    return """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in - Polymarket realtime control room</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1d2430}
code{background:#eef1f5;padding:.1rem .3rem;border-radius:4px}
@media (prefers-color-scheme: dark){body{background:#11151c;color:#e3e8ef}code{background:#232a35}}</style>
</head><body><main>
<h1>Log in to the control room</h1>
<p>This dashboard needs its login link, which carries the server's token and sets a cookie for this browser
(valid 30 days).</p>
<p>Print the link on the machine that runs the server:</p>
<pre><code>polymarket-realtime-mcp http-token</code></pre>
<p>It is also printed to the server's log (stderr) when <code>serve</code> starts. Open the printed
<code>http://&hellip;/?token=&hellip;</code> link in this browser.</p>
</main></body></html>
"""
