"""The control room's security model over real HTTP: token on every route but /health, Host/Origin checks
(DNS rebinding, cross-site), the cookie login, the token file, and loopback-only binding by default."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from polymarket_realtime.cli import main
from polymarket_realtime.errors import ConfigError
from polymarket_realtime.http.auth import Guard, cookie_value, load_or_create_token
from polymarket_realtime.http.host import HttpOptions, check_bind, parse_dashboard
from polymarket_realtime.secrets import Secret
from tests.integration._http_harness import serving

pytestmark = pytest.mark.anyio

GETS = [
    "/",
    "/static/app.js",
    "/api/whoami",
    "/api/metrics",
    "/api/system",
    "/api/sessions",
    "/api/sessions/ps-x",
    "/api/sessions/ps-x/orders",
    "/api/sessions/ps-x/equity",
    "/api/agents",
    "/api/agents/ag-x",
    "/api/agents/ag-x/logs",
    "/api/agents/ag-x/logs/download",
    "/api/presets",
    "/api/activity",
    "/api/markets/search?q=will",
    "/api/books/123",
    "/mcp",
    "/no/such/route",
]
POSTS = [
    "/api/system/start",
    "/api/system/stop",
    "/api/sessions",
    "/api/sessions/pause_all",
    "/api/sessions/ps-x/pause",
    "/api/sessions/ps-x/orders",
    "/api/agents",
    "/api/agents/ag-x/stop",
    "/api/presets",
    "/api/presets/x/delete",
    "/mcp",
]


async def test_every_route_but_health_needs_the_token(tmp_path: Path) -> None:
    async with serving(tmp_path) as h:
        health = await h.http.get(h.base + "/health")
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        wrong = {"Authorization": "Bearer " + "x" * 43}
        for path in GETS:
            for headers in ({}, wrong):
                response = await h.http.get(h.base + path, headers=headers)
                assert response.status_code == 401, (path, response.status_code)
                assert h.token not in response.text
                if path == "/":
                    continue  # a browser's page: the HTML login help (test below)
                assert response.json()["error"] == "unauthorized"
        for path in POSTS:
            response = await h.http.post(h.base + path, json={}, headers={"content-type": "application/json"})
            assert response.status_code == 401, path
        # ?token= is the browser login link only; the API wants the header or the cookie.
        assert (await h.http.get(h.base + f"/api/system?token={h.token}")).status_code == 401
        for path in ("/ws", "/ws/sessions/ps-x"):
            with pytest.raises(InvalidStatus) as refused:
                async with h.ws(path, token=False):
                    pass
            assert refused.value.response.status_code == 401
        assert (await h.get("/api/system")).status_code == 200


async def test_foreign_host_and_origin_get_403(tmp_path: Path) -> None:
    async with serving(tmp_path) as h:
        rebinding = {"Host": f"attacker.example:{h.port}"}
        cross_site = {"Origin": "http://attacker.example"}
        for extra in (rebinding, cross_site, {"Origin": f"http://127.0.0.1:{h.port + 1}"}):
            for path in ("/api/system", "/", "/health"):
                response = await h.get(path, headers=extra)
                assert response.status_code == 403, (path, extra)
                assert response.json()["error"] == "forbidden"
            assert (await h.post("/api/system/stop", headers=extra)).status_code == 403
            mcp = await h.post(
                "/mcp", {"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers={**extra, "accept": "application/json"}
            )
            assert mcp.status_code == 403
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"ws://127.0.0.1:{h.port}/ws?token={h.token}", origin=Origin("http://attacker.example")):
                pass
        assert refused.value.response.status_code == 403
        same_origin = await h.get("/api/system", headers={"Origin": f"http://localhost:{h.port}"})
        assert same_origin.status_code == 200
        assert (await h.get("/api/whoami", headers={"Host": f"localhost:{h.port}"})).status_code == 200


async def test_the_page_without_the_cookie_explains_how_to_log_in(tmp_path: Path) -> None:
    async with serving(tmp_path) as h:
        for path in ("/", "/?token=wrong"):
            page = await h.http.get(h.base + path)
            assert page.status_code == 401 and page.headers["content-type"].startswith("text/html"), path
            assert "polymarket-realtime-mcp http-token" in page.text and "<h1>" in page.text
            assert h.token not in page.text
        # Everything else a program calls keeps the JSON error.
        api = await h.http.get(h.base + "/api/system", headers={"Accept": "text/html"})
        assert api.status_code == 401 and api.json()["error"] == "unauthorized"


async def test_cookie_login_and_cookie_posts_need_same_origin(tmp_path: Path) -> None:
    async with serving(tmp_path) as h:
        bad_login = await h.http.get(h.base + "/?token=nope")
        assert bad_login.status_code == 401
        login = await h.http.get(h.base + f"/?token={h.token}")
        assert login.status_code == 303 and login.headers["location"] == "/"
        cookie = login.headers["set-cookie"]
        # Named per port (browsers share cookies across ports) and holding HMAC(token), not the token.
        value = cookie_value(h.token)
        h.http.cookies.clear()  # this test sends the cookie by hand
        assert cookie.startswith(f"pmrt_token_{h.port}={value};") and "HttpOnly" in cookie
        assert h.token not in cookie and value != h.token
        assert "SameSite=strict" in cookie and "Path=/" in cookie
        assert f"Max-Age={30 * 24 * 3600}" in cookie  # a month, then the login link again
        for wrong in (f"pmrt_token={value}", f"pmrt_token_{h.port + 1}={value}", f"pmrt_token_{h.port}={h.token}"):
            assert (await h.http.get(h.base + "/api/system", headers={"Cookie": wrong})).status_code == 401, wrong
        # The cookie value is a cookie only: never a Bearer token (a leaked cookie does not open the API/MCP).
        as_bearer = await h.http.get(h.base + "/api/system", headers={"Authorization": f"Bearer {value}"})
        assert as_bearer.status_code == 401
        jar = {"Cookie": f"pmrt_token_{h.port}={value}"}
        page = await h.http.get(h.base + "/", headers=jar)
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert h.token not in page.text
        assert (await h.http.get(h.base + "/api/system", headers=jar)).status_code == 200
        no_origin = await h.http.post(h.base + "/api/system/stop", headers=jar)
        assert no_origin.status_code == 403
        same = await h.http.post(h.base + "/api/system/stop", headers={**jar, "Origin": f"http://127.0.0.1:{h.port}"})
        assert same.status_code == 200 and same.json()["switch"] == "stopped"
        async with connect(f"ws://127.0.0.1:{h.port}/ws", additional_headers=jar) as ws:
            await ws.send('{"type": "ping"}')
            assert "pong" in str(await ws.recv())


def test_token_file_is_private_and_stable(tmp_path: Path) -> None:
    token = load_or_create_token(tmp_path)
    path = tmp_path / "http-token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(token) >= 40
    os.chmod(path, 0o644)
    assert load_or_create_token(tmp_path) == token  # created once, never rewritten
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("short\n")
    with pytest.raises(ValueError, match="delete it"):
        load_or_create_token(tmp_path)


def test_non_loopback_bind_needs_the_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POLYMARKET_MCP_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert main(["serve", "--http", "--host", "0.0.0.0", "--port", "0"]) == 2
    assert "--allow-remote" in capsys.readouterr().err
    check_bind(HttpOptions(host="0.0.0.0", allow_remote=True))
    for host in ("127.0.0.1", "::1", "localhost"):
        check_bind(HttpOptions(host=host))
    with pytest.raises(ConfigError):
        check_bind(HttpOptions(host="192.168.1.5"))
    assert parse_dashboard("127.0.0.1:9000").port == 9000 and parse_dashboard(":9001").host == "127.0.0.1"
    with pytest.raises(ConfigError):
        parse_dashboard("localhost:http")
    # A remote bind still needs the token, and only the bound name is accepted as Host.
    guard = Guard("t" * 43, 8787, extra_hosts=["10.0.0.2"])
    ok = {"host": "10.0.0.2:8787", "authorization": "Bearer " + "t" * 43}
    assert (
        guard.check(method="GET", path="/api/system", headers=ok, cookies={}, query_token=None, websocket=False).status
        == 0
    )
    no_token = {"host": "10.0.0.2:8787"}
    assert (
        guard.check(
            method="GET", path="/api/system", headers=no_token, cookies={}, query_token=None, websocket=False
        ).status
        == 401
    )


async def test_secrets_never_reach_answers_or_pushes(tmp_path: Path) -> None:
    secrets = {"api_key": "K" * 36, "api_secret": "S" * 44, "passphrase": "P" * 40}
    async with serving(tmp_path, **{k: Secret(v) for k, v in secrets.items()}) as h:
        texts = [(await h.get(path)).text for path in ("/api/system", "/api/whoami", "/api/metrics", "/")]
        async with h.ws() as ws:
            await ws.send('{"type": "subscribe", "channels": ["system", "sessions", "agents", "activity"]}')
            texts.extend([str(await ws.recv()) for _ in range(4)])
        for text in texts:
            assert h.token not in text
            for value in secrets.values():
                assert value not in text


async def test_refused_upgrades_log_no_error_and_the_bound_port_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with serving(tmp_path) as h:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"ws://127.0.0.1:{h.port}/ws"):  # no token
                pass
        assert refused.value.response.status_code == 401
        assert f"dashboard listening on 127.0.0.1 port {h.port}" in caplog.text  # --port 0 says which
    assert "without completing handshake" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


def test_a_refused_host_under_allow_remote_names_the_flag() -> None:
    token = "t" * 43
    local = Guard(token, 8787)
    remote = Guard(token, 8787, extra_hosts=["10.0.0.2"], remote=True)
    headers = {"host": "dash.example:8787", "authorization": "Bearer " + token}
    args: dict[str, Any] = {"method": "GET", "path": "/api/system", "cookies": {}, "query_token": None}
    said = remote.check(headers=headers, websocket=False, **args)
    assert said.status == 403 and "--allowed-host" in said.detail
    assert "--allowed-host" not in local.check(headers=headers, websocket=False, **args).detail
