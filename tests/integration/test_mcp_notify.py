"""Push for both protocol eras, resources, and the private SDK hooks notify.py relies on."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import types

from polymarket_realtime.config import Settings
from polymarket_realtime.server.app import create_server

from ._mcp_harness import running

pytestmark = pytest.mark.anyio


def test_private_sdk_hooks_are_installed() -> None:
    """notify.py registers legacy handlers through MCPServer._lowlevel_server; an SDK bump must fail here."""
    server = create_server(Settings(), extensions=[])
    low = server._lowlevel_server
    for method in ("resources/subscribe", "resources/unsubscribe", "logging/setLevel"):
        assert low.get_request_handler(method) is not None, method
    assert low.get_notification_handler("notifications/initialized") is not None


async def test_initialize_is_fast_and_opens_no_socket(tmp_path: Path) -> None:
    started = time.monotonic()
    async with running(tmp_path, mode="legacy") as h:
        elapsed = time.monotonic() - started
        tools = await h.client.list_tools()
        assert tools.tools
        assert h.sim.observed.on("/ws/market") == [] and h.sim.observed.on("/") == []
        caps = h.client.server_capabilities
        assert caps.resources is not None and caps.resources.subscribe is True
        assert caps.logging is not None
    assert elapsed < 10  # generous: start-up is measured by benchmarks/startup.py, guarded by the import test below


async def test_legacy_resource_updates_and_log_notifications(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="polymarket_realtime.events")
    updates: list[tuple[float, str]] = []
    logs: list[dict[str, Any]] = []
    got_log = anyio.Event()
    got_update = anyio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            updates.append((time.monotonic(), str(message.params.uri)))
            got_update.set()

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        if isinstance(params.data, dict):
            logs.append(params.data)
            got_log.set()

    async with running(tmp_path, mode="legacy", message_handler=on_message, logging_callback=on_log) as h:
        token = h.market(0).token_ids[0]
        quiet = await h.call("subscribe_market_prices", {"token_ids": [token], "callback_type": "log"})
        loud = await h.call("subscribe_market_prices", {"token_ids": [token]})
        uri = f"polymarket://subscriptions/{loud['subscription_id']}"
        await h.client.subscribe_resource(uri)
        await h.client.set_logging_level("info")
        start = time.monotonic()
        with anyio.fail_after(10):
            await got_update.wait()
            await got_log.wait()
            sub_log = h.server.running_app().router.get(loud["subscription_id"]).log
            await h.sim.wait_until(lambda: sub_log.last_seq >= 20, timeout=10)
        elapsed = time.monotonic() - start
        mine = [t for t, u in updates if u == uri]
        assert mine, "no resources/updated for the subscribed URI"
        # Coalesced: at most ~10 per second per URI (plus one for the window in progress).
        assert len(mine) <= elapsed * 10 + 2
        assert all(u == uri for _, u in updates)  # nothing for URIs the client did not subscribe to
        assert {d["subscription_id"] for d in logs} == {loud["subscription_id"]}  # log-mode stays in the server log
        first = logs[0]
        assert set(first) == {"subscription_id", "seq", "type", "token_id", "summary"}
        seqs = [d["seq"] for d in logs]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        assert quiet["subscription_id"] not in {d["subscription_id"] for d in logs}
        # callback_type="log": the events went to the server log instead.
        assert any(quiet["subscription_id"] in r.getMessage() for r in caplog.records)

        counters = (await h.call("get_realtime_status"))["statistics"]["notifications"]
        assert counters["legacy_sessions"] == 1
        assert counters["resource_updates_sent"] >= len(mine) and counters["log_messages_sent"] >= len(logs)

        # Unsubscribing the resource stops its updates.
        await h.client.unsubscribe_resource(uri)
        notifier = h.server.running_app().notifier
        assert all(uri not in s.uris for s in notifier._sessions.values())


async def test_modern_listen_receives_resource_updates(tmp_path: Path) -> None:
    async with running(tmp_path) as h:
        token = h.market(1).token_ids[0]
        sub = await h.call("subscribe_orderbook_updates", {"token_ids": [token]})
        uri = f"polymarket://subscriptions/{sub['subscription_id']}"
        book_uri = f"polymarket://book/{token}"
        seen: set[str] = set()
        with anyio.fail_after(10):
            async with h.client.listen(resource_subscriptions=[uri, book_uri]) as stream:
                async for event in stream:
                    seen.add(str(getattr(event, "uri", "")))
                    if {uri, book_uri} <= seen:
                        break
        assert {uri, book_uri} <= seen


async def test_resources_read(tmp_path: Path) -> None:
    async with running(tmp_path) as h:
        token = h.market(0).token_ids[1]
        sub = await h.call("subscribe_orderbook_updates", {"token_ids": [token], "depth": 2})
        await h.events_until(sub["subscription_id"], lambda evs: any(e["type"] == "book" for e in evs))

        status = json.loads((await h.client.read_resource("polymarket://status")).contents[0].text)  # type: ignore[union-attr]
        assert status["subscriptions"]["total"] == 1 and "market" in status["connections"]

        recent = await h.client.read_resource(f"polymarket://subscriptions/{sub['subscription_id']}")
        body = json.loads(recent.contents[0].text)  # type: ignore[union-attr]
        assert body["subscription_id"] == sub["subscription_id"] and body["events"]
        assert [e["seq"] for e in body["events"]] == sorted(e["seq"] for e in body["events"])

        book = json.loads((await h.client.read_resource(f"polymarket://book/{token}")).contents[0].text)  # type: ignore[union-attr]
        assert book["token_id"] == token and book["source"] == "ws" and book["bids"]

        templates = await h.client.list_resource_templates()
        assert {t.uri_template for t in templates.resource_templates} >= {
            "polymarket://subscriptions/{subscription_id}",
            "polymarket://book/{token_id}",
        }


async def test_log_mode_subscriptions_push_nothing(tmp_path: Path) -> None:
    """callback_type="log": events go to the server log only; a twin notification-mode subscription on
    the same token gets its resource updates, so the log-mode one would have been pushed by now."""
    async with running(tmp_path) as h:
        token = h.market(0).token_ids[0]
        quiet = await h.call("subscribe_market_prices", {"token_ids": [token], "callback_type": "log"})
        loud = await h.call("subscribe_market_prices", {"token_ids": [token]})
        quiet_uri = f"polymarket://subscriptions/{quiet['subscription_id']}"
        loud_uri = f"polymarket://subscriptions/{loud['subscription_id']}"
        seen: list[str] = []
        with anyio.fail_after(15):
            async with h.client.listen(resource_subscriptions=[quiet_uri, loud_uri]) as stream:
                async for event in stream:
                    seen.append(str(getattr(event, "uri", "")))
                    if seen.count(loud_uri) >= 3:
                        break
        assert quiet_uri not in seen
        sub = h.server.running_app().router.get(quiet["subscription_id"])
        assert sub.log.last_seq > 0  # the log-mode subscription did receive the events


def test_building_the_full_server_imports_no_heavy_optional_module() -> None:
    """Start-up speed guard without a timed assertion: the handshake must not wait for eth-account
    (~4 s of imports here), matplotlib, redis or numpy; they load on first use. Measured start-up:
    `.venv/bin/python benchmarks/startup.py`."""
    code = (
        "import sys\n"
        "from polymarket_realtime.config import Settings\n"
        "from polymarket_realtime.server.app import create_server\n"
        "create_server(Settings())\n"
        "heavy = {'eth_account', 'eth_keys', 'matplotlib', 'redis', 'hiredis', 'numpy', 'py_clob_client_v2'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]", out.stdout
