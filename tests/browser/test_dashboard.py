"""The dashboard in a real headless Chromium against the real control room (simulator behind it).

Driven with Playwright's Python package; the browser is Debian's ``chromium`` (the Makefile installs it).
Every wait is bounded (Playwright's ``expect`` timeouts, ``anyio.fail_after``); nothing sleeps.
Screenshots of each view go to ``test-output/browser/`` (gitignored).
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from polymarket_realtime.simulator import Simulator, SimulatorConfig
from tests.browser._room import CHROMIUM_ARGS, OUTPUT_DIR, Room, call, chromium_path, control_room, mcp_client

playwright_api = pytest.importorskip("playwright.async_api", reason="the playwright package (dev extra) is missing")
async_playwright = playwright_api.async_playwright
expect = playwright_api.expect

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.browser,
    pytest.mark.skipif(
        chromium_path() is None,
        reason="Debian's chromium is not installed (`make test` installs it: apt-get install chromium)",
    ),
]

SIM = SimulatorConfig(seed=3, markets=4, rate_per_s=40.0, resolve_after_s=None)
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@contextlib.asynccontextmanager
async def chromium(profile: Path, **context: Any) -> AsyncIterator[Any]:
    """A fresh persistent context (its own user-data dir) of Debian's Chromium; yields one page."""
    async with async_playwright() as pw:
        ctx = await pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=chromium_path(),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport=LAPTOP,
            **context,
        )
        try:
            page = ctx.pages[0] if ctx.pages else await ctx.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.errors = errors
            yield page
        finally:
            await ctx.close()


async def open_dashboard(page: Any, room: Room) -> None:
    await page.goto(room.login_link)  # the login link trades the token for an HttpOnly cookie, then redirects
    assert "token=" not in page.url
    await expect(page.locator("#conn-badge")).to_have_text("live", timeout=10_000)
    await expect(page.locator("#tiles .tile").first).to_be_visible(timeout=10_000)


async def shot(page: Any, name: str, *, full_page: bool = False) -> None:
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUTPUT_DIR / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    assert path.stat().st_size > 5_000  # a real rendering, not an empty canvas


def session_card(page: Any, session_id: str) -> Any:
    return page.locator(f'.session-card[data-session-id="{session_id}"]')


async def test_sessions_appear_pause_and_fill_live(tmp_path: Path) -> None:
    async with Simulator(SIM) as sim, control_room(sim, tmp_path / "data") as room, chromium(tmp_path / "p") as page:
        await open_dashboard(page, room)
        await expect(page.locator("#sessions .empty")).to_be_visible()
        await shot(page, "01-empty")
        token = sim.model.active_markets()[0].token_ids[0]
        http, client = mcp_client(room)
        with anyio.fail_after(60):
            async with http, client:
                asked_ms = int(time.time() * 1000)
                created = await call(client, "create_paper_session", {"name": "via-mcp", "token_ids": [token]})
                sid = created["session_id"]
                assert asked_ms <= created["created_ms"] <= int(time.time() * 1000)  # the card's age counts from it
                # Pushed, not polled: on the page within a second of the tool's answer.
                card = session_card(page, sid)
                await expect(card).to_be_visible(timeout=1_000)
                await expect(card.locator(".card-title")).to_have_text("via-mcp")
                await expect(card.locator('[data-field="state"]')).to_have_text("running")

                await page.get_by_role("button", name="Pause session via-mcp").click()
                await expect(card.locator('[data-field="state"]')).to_have_text("paused", timeout=5_000)
                assert (await call(client, "get_paper_session", {"session_id": sid}))["state"] == "paused"
                await expect(card.locator('[data-field="reason"]')).to_contain_text("paused by user")
                await page.get_by_role("button", name="Resume session via-mcp").click()
                await expect(card.locator('[data-field="state"]')).to_have_text("running", timeout=5_000)
                assert (await call(client, "get_paper_session", {"session_id": sid}))["state"] == "running"

                order = await call(
                    client,
                    "place_paper_order",
                    {"session_id": sid, "token_id": token, "side": "BUY", "size": "10", "order_type": "market"},
                )
                assert order["fills"], order
                fill = order["fills"][0]
                feed_row = page.locator("#activity-list li[data-kind='order_placed']").filter(has_text="filled 10")
                await expect(feed_row).to_have_count(1, timeout=5_000)
                await expect(feed_row.get_by_role("link", name="Open session via-mcp")).to_be_visible()
                await expect(card.locator('[data-field="last-fill"]')).to_contain_text(
                    f"BUY {fill['size']} @ {fill['price']}", timeout=5_000
                )
                await expect(card.locator('[data-field="trades"]')).to_contain_text("Trades 1")
                await expect(page.locator("#market-rows tr[data-token]")).to_have_count(1, timeout=5_000)

                # Filters: an error-only feed hides the fill; "all" shows it again.
                await page.select_option("#activity-severity", "error")
                await expect(feed_row).to_have_count(0)
                await page.select_option("#activity-severity", "")
                await expect(feed_row).to_have_count(1)
                await shot(page, "02-overview-light")

                # Details: positions, fills and the equity chart, opened from the feed's link.
                await feed_row.get_by_role("link", name="Open session via-mcp").click()
                dialog = page.locator("#session-dialog")
                await expect(dialog).to_be_visible()
                await expect(dialog.locator("#sd-positions tr")).to_have_count(1)
                await expect(dialog.locator("#sd-fills tr").first).to_contain_text("BUY")
                await expect(dialog.locator("#sd-chart svg polyline")).to_have_count(1)
                # An order from the details form: on the session's command stream and in its fills.
                await dialog.get_by_label("Order size in shares").fill("5")
                await dialog.get_by_role("button", name="Place order in session via-mcp").click()
                commands = dialog.locator("#sd-commands li")
                await expect(commands.filter(has_text="order placed")).to_have_count(1, timeout=5_000)
                await expect(commands.filter(has_text="order filled")).to_have_count(1, timeout=5_000)
                await expect(dialog.locator("#sd-fills tr")).to_have_count(2, timeout=5_000)
                detail = await call(client, "get_paper_session", {"session_id": sid})
                assert detail["positions"][0]["size"] == "15" and detail["trades"] == 2
                await expect(card.locator('[data-field="trades"]')).to_contain_text("Trades 2")
                await shot(page, "03-session-details")
                await dialog.get_by_role("button", name="Close session details").click()
                await expect(dialog).to_be_hidden()

                background = "getComputedStyle(document.body).backgroundColor"
                before = await page.evaluate(background)
                await page.get_by_role("button", name=re.compile(r"Switch to (dark|light) theme")).click()
                theme = await page.evaluate("document.documentElement.dataset.theme")
                assert theme in ("dark", "light") and await page.evaluate(background) != before
                other = "light" if theme == "dark" else "dark"
                await expect(page.get_by_role("button", name=f"Switch to {other} theme")).to_be_visible()
                await page.reload()  # the choice is remembered
                await expect(page.locator("#conn-badge")).to_have_text("live", timeout=10_000)
                assert await page.evaluate("document.documentElement.dataset.theme") == theme
                await shot(page, f"04-overview-{theme}")
                await page.set_viewport_size(PHONE)
                await expect(card).to_be_visible()
                width = await page.evaluate("document.documentElement.scrollWidth")
                assert width <= PHONE["width"], f"the page scrolls sideways at phone width ({width}px)"
                await shot(page, "05-phone", full_page=True)
        assert page.errors == []


async def test_agent_logs_stream_into_the_viewer(tmp_path: Path) -> None:
    async with Simulator(SIM) as sim, control_room(sim, tmp_path / "data") as room, chromium(tmp_path / "p") as page:
        token = sim.model.active_markets()[0].token_ids[0]
        session = await room.api("POST", "/api/sessions", {"name": "traded", "token_ids": [token]})
        params = {"window": 3, "threshold": "0.9", "order_size": "5", "max_position": "10", "cooldown": 0}
        agent = await room.api(
            "POST",
            "/api/agents",
            {
                "kind": "strategy",
                "config": {"token_id": token, "strategy": "mean_reversion", "params": params},
                "session_id": session["session_id"],
            },
        )
        aid = agent["agent_id"]
        await open_dashboard(page, room)
        card = page.locator(f'.agent-card[data-agent-id="{aid}"]')
        await expect(card).to_be_visible(timeout=5_000)
        await expect(card.get_by_role("link", name=f"Open session traded traded by agent {aid}")).to_be_visible()
        await expect(page.locator("#flow-edges path")).to_have_count(1)  # agent -> the session it trades
        await expect(card.locator('[data-field="tail"]')).to_contain_text("mean_reversion on", timeout=5_000)

        await page.get_by_role("button", name=f"View logs of agent {aid}").click()
        viewer = page.locator("#lg-lines")
        starts = viewer.locator("div").filter(has_text="mean_reversion on")
        await expect(starts).to_have_count(1, timeout=5_000)
        download = page.get_by_role("link", name=f"Download the log of agent {aid}")
        assert await download.get_attribute("href") == f"api/agents/{aid}/logs/download"
        fetched = await page.request.get(f"{room.base}/api/agents/{aid}/logs/download")  # with the page's cookie
        assert fetched.status == 200 and "mean_reversion on" in await fetched.text()

        # New lines stream into the open viewer: a stop and a restart log a fresh start line.
        await room.api("POST", f"/api/agents/{aid}/stop")
        await room.api("POST", f"/api/agents/{aid}/start")
        await expect(starts).to_have_count(2, timeout=5_000)
        await page.fill("#lg-contains", "no such words")
        await expect(starts).to_have_count(0)
        await page.fill("#lg-contains", "MEAN_REVERSION")  # case-insensitive
        await expect(starts).to_have_count(2)
        await page.select_option("#lg-level", "error")
        await expect(starts).to_have_count(0)
        await page.select_option("#lg-level", "")
        await expect(starts).to_have_count(2)
        await shot(page, "06-log-viewer")
        await page.get_by_role("button", name="Close log viewer").click()

        await page.get_by_role("button", name=f"Stop agent {aid}").click()
        await expect(card.locator(".pill")).to_have_text("stopped", timeout=5_000)
        assert (await room.api("GET", f"/api/agents/{aid}"))["state"] == "stopped"

        # Every control says what it does: no button, link or field without an accessible name.
        shown, unnamed = await page.evaluate(
            """() => {
                const shown = [...document.querySelectorAll('button, a[href], select, input, textarea')]
                    .filter((el) => el.getClientRects().length);
                const named = (el) => el.getAttribute('aria-label')
                    || (el.labels && el.labels[0] && el.labels[0].textContent.trim())
                    || el.textContent.trim() || el.title;
                return [shown.length, shown.filter((el) => !named(el)).map((el) => el.outerHTML.slice(0, 120))];
            }"""
        )
        assert shown > 15 and unnamed == [], (shown, unnamed)

        # The browser going offline shows on the badge; back online it reconnects by itself.
        await page.context.set_offline(True)
        await expect(page.locator("#conn-badge")).to_have_text("offline", timeout=5_000)
        await page.context.set_offline(False)
        await expect(page.locator("#conn-badge")).to_have_text("live", timeout=10_000)

        # The master switch: stopping the system is visible at once and real on the server.
        await page.get_by_role("button", name="Stop system").click()
        await expect(page.locator("#switch-state")).to_have_text("stopped", timeout=5_000)
        assert (await room.api("GET", "/api/system"))["switch"] == "stopped"
        await page.get_by_role("button", name="Start system").click()
        await expect(page.locator("#switch-state")).to_have_text("running", timeout=5_000)
        assert (await room.api("GET", "/api/system"))["switch"] == "running"

        await page.get_by_role("button", name="Start an agent").click()
        await expect(page.locator("#af-preset option[value='balanced']")).to_have_count(1, timeout=5_000)
        await shot(page, "07-start-agent-form")
        assert page.errors == []


async def test_page_recovers_after_a_server_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with Simulator(SIM) as sim, chromium(tmp_path / "p") as page:
        token = sim.model.active_markets()[0].token_ids[0]
        async with control_room(sim, data) as room:
            port = room.port
            before = await room.api("POST", "/api/sessions", {"name": "survivor", "token_ids": [token]})
            order = {"token_id": token, "side": "BUY", "size": "5", "order_type": "market"}
            assert (await room.api("POST", f"/api/sessions/{before['session_id']}/orders", order))["fills"]
            await open_dashboard(page, room)
            await expect(session_card(page, before["session_id"])).to_be_visible(timeout=5_000)
        # The server is down now (uvicorn has returned).
        await expect(page.locator("#conn-badge")).not_to_have_text("live", timeout=10_000)
        async with control_room(sim, data, port) as room:
            await expect(page.locator("#conn-badge")).to_have_text("live", timeout=20_000)
            history = await page.evaluate("window.controlRoom.badgeHistory")
            assert "reconnecting" in history and history[-1] == "live", history
            survivor = session_card(page, before["session_id"])
            await expect(survivor).to_be_visible()
            await expect(survivor.locator('[data-field="trades"]')).to_contain_text("Trades 1")  # counted from the DB
            # Live again, not just a stale page: a session made on the new server shows up.
            after = await room.api("POST", "/api/sessions", {"name": "after-restart", "token_ids": [token]})
            await expect(session_card(page, after["session_id"])).to_be_visible(timeout=5_000)
            created_rows = page.locator("#activity-list li[data-kind='session_created']")
            await expect(created_rows).to_have_count(2, timeout=5_000)
            await expect(created_rows.get_by_role("link", name="Open session after-restart")).to_have_count(1)
            await shot(page, "08-after-restart")
        assert page.errors == []


async def test_forms_create_a_session_and_start_a_scanner(tmp_path: Path) -> None:
    async with Simulator(SIM) as sim, control_room(sim, tmp_path / "data") as room, chromium(tmp_path / "p") as page:
        market = sim.model.active_markets()[0]
        await open_dashboard(page, room)

        await page.get_by_role("button", name="New session").click()
        form = page.locator("#session-form")
        await form.get_by_label("Name").fill("from-the-form")
        await form.get_by_label("Search markets for the new session").fill(market.question.split()[1])
        await form.get_by_role("button", name=re.compile(r"^Add the .+ token of")).first.click()
        await expect(form.locator("#sf-tokens")).to_have_value(market.token_ids[0])
        await form.get_by_role("button", name="Create session").click()
        await expect(page.locator("#session-form-dialog")).to_be_hidden(timeout=10_000)
        card = page.locator(".session-card").filter(has_text="from-the-form")
        await expect(card).to_have_count(1, timeout=5_000)
        listed = (await room.api("GET", "/api/sessions"))["sessions"]
        assert [(s["name"], s["token_ids"]) for s in listed] == [("from-the-form", [market.token_ids[0]])]

        # A bad request is explained in the form and changes nothing (seen at phone width).
        await page.set_viewport_size(PHONE)
        await page.get_by_role("button", name="New session").click()
        await expect(form.locator("#sf-tokens")).to_have_value("")  # a created session's entries are cleared
        await form.get_by_label("Name").fill("bad")
        await form.locator("#sf-tokens").fill("not-a-token")
        await form.get_by_role("button", name="Create session").click()
        await expect(form.locator(".form-error")).to_contain_text("token", timeout=5_000)
        await shot(page, "09-new-session-form-phone")
        await page.set_viewport_size(LAPTOP)
        assert len((await room.api("GET", "/api/sessions"))["sessions"]) == 1
        await page.get_by_role("button", name="Close new session form").click()

        await page.get_by_role("button", name="Start an agent").click()
        agent_form = page.locator("#agent-form")
        await expect(agent_form.locator("#af-preset option[value='liquidity']")).to_have_count(1, timeout=5_000)
        await agent_form.locator("#af-preset").select_option("liquidity")
        await expect(agent_form.locator("#af-preset-weights")).to_contain_text("spread 2")
        await agent_form.get_by_role("button", name="Start agent").click()
        await expect(page.locator("#agent-form-dialog")).to_be_hidden(timeout=10_000)
        agents = (await room.api("GET", "/api/agents"))["agents"]
        assert [(a["kind"], a["config"]["preset"]) for a in agents] == [("market_scanner", "liquidity")]
        await expect(page.locator(f'.agent-card[data-agent-id="{agents[0]["agent_id"]}"]')).to_contain_text(
            "Preset liquidity", timeout=5_000
        )

        # A move alert from the same form.
        await page.get_by_role("button", name="Start an agent").click()
        await agent_form.locator("#af-kind").select_option("price_alert")
        await agent_form.locator("#af-tokens").fill(market.token_ids[0])
        await agent_form.get_by_label("Condition").select_option("move")
        await agent_form.get_by_label(re.compile(r"^Price, or the move")).fill("0.05")
        await agent_form.get_by_role("button", name="Start agent").click()
        await expect(page.locator("#agent-form-dialog")).to_be_hidden(timeout=10_000)
        alerts = [a for a in (await room.api("GET", "/api/agents"))["agents"] if a["kind"] == "price_alert"]
        assert len(alerts) == 1 and alerts[0]["config"]["move"] == "0.05", alerts
        await expect(page.locator(f'.agent-card[data-agent-id="{alerts[0]["agent_id"]}"]')).to_contain_text(
            "When move 0.05", timeout=5_000
        )
        assert page.errors == []


async def test_session_equity_chart_starts_from_the_saved_points(tmp_path: Path) -> None:
    async with Simulator(SIM) as sim, control_room(sim, tmp_path / "data") as room, chromium(tmp_path / "p") as page:
        token = sim.model.active_markets()[0].token_ids[0]
        made = await room.api("POST", "/api/sessions", {"name": "with-history", "token_ids": [token]})
        sid = made["session_id"]
        for size in ("5", "7", "9"):
            order = {"token_id": token, "side": "BUY", "size": size, "order_type": "market"}
            assert (await room.api("POST", f"/api/sessions/{sid}/orders", order))["fills"]
        saved = (await room.api("GET", f"/api/sessions/{sid}/equity"))["points"]
        assert len(saved) == 3
        before_page_ms = int(time.time() * 1000)
        await open_dashboard(page, room)
        await page.get_by_role("button", name="Show details of session with-history").click()
        dialog = page.locator("#session-dialog")
        await expect(dialog).to_be_visible()
        # Seeded from the API (the fills happened before the page existed), not from pushes after it.
        past = f"(window.controlRoom.equity.get({sid!r}) || []).filter((p) => p.t < {before_page_ms}).length"
        await page.wait_for_function(f"{past} >= 3", timeout=5_000)
        line = dialog.locator("#sd-chart svg polyline")
        await expect(line).to_have_count(1)
        assert len((await line.get_attribute("points") or "").split()) >= 4  # 3 saved + the live one
        await shot(page, "10-equity-seeded")
        # Reopening does not duplicate the history.
        await dialog.get_by_role("button", name="Close session details").click()
        await page.get_by_role("button", name="Show details of session with-history").click()
        await expect(dialog).to_be_visible()
        await page.wait_for_function(f"{past} === 3", timeout=5_000)
        assert page.errors == []


async def test_scanner_presets_are_saved_and_deleted_from_the_form(tmp_path: Path) -> None:
    async with Simulator(SIM) as sim, control_room(sim, tmp_path / "data") as room, chromium(tmp_path / "p") as page:
        await open_dashboard(page, room)
        await page.get_by_role("button", name="Start an agent").click()
        form = page.locator("#agent-form")
        await expect(form.locator("#af-preset option[value='liquidity']")).to_have_count(1, timeout=5_000)
        await form.get_by_text("Save or delete a preset").click()
        await form.get_by_label("Preset name").fill("tight")
        await form.get_by_label("Spread weight").fill("3")
        await form.get_by_label("Momentum weight").fill("0")
        await form.get_by_role("button", name="Save preset tight (scanner weights)").click()
        await expect(form.locator("#af-preset option[value='tight']")).to_have_count(1, timeout=5_000)
        await expect(form.locator("#af-preset")).to_have_value("tight")
        await expect(form.locator("#af-preset-weights")).to_contain_text("spread 3")
        saved = (await room.api("GET", "/api/presets"))["presets"]
        assert saved["tight"]["spread"] == 3 and saved["tight"]["momentum"] == 0, saved
        await shot(page, "11-preset-editor")
        await page.set_viewport_size(PHONE)
        await expect(form.get_by_label("Volatility weight")).to_be_in_viewport()
        await shot(page, "12-preset-editor-phone")
        await page.set_viewport_size(LAPTOP)

        # Offered again after the form is reopened, and usable: a scanner starts with it.
        await page.get_by_role("button", name="Close start agent form").click()
        await page.get_by_role("button", name="Start an agent").click()
        await expect(form.locator("#af-preset option[value='tight']")).to_have_count(1, timeout=5_000)
        await form.locator("#af-preset").select_option("tight")
        await form.get_by_role("button", name="Start agent").click()
        await expect(page.locator("#agent-form-dialog")).to_be_hidden(timeout=10_000)
        agents = (await room.api("GET", "/api/agents"))["agents"]
        assert [a["config"]["preset"] for a in agents] == ["tight"]

        # Deleting: a built-in one is refused in the form; the saved one goes.
        await page.get_by_role("button", name="Start an agent").click()
        await expect(form.locator("#af-preset option[value='tight']")).to_have_count(1, timeout=5_000)
        await form.locator("#af-preset").select_option("balanced")
        await form.get_by_role("button", name="Delete preset balanced").click()
        await expect(form.locator(".form-error")).to_contain_text("Preset not deleted", timeout=5_000)
        await form.locator("#af-preset").select_option("tight")
        await form.get_by_role("button", name="Delete preset tight").click()
        await expect(form.locator("#af-preset option[value='tight']")).to_have_count(0, timeout=5_000)
        assert "tight" not in (await room.api("GET", "/api/presets"))["presets"]
        assert page.errors == []


CONTROL_ROLES = ("button", "link", "checkbox", "combobox", "textbox", "spinbutton", "searchbox", "switch")


def unnamed_controls(aria: str) -> list[str]:
    """Lines of an ARIA snapshot naming a control without an accessible name (``- button`` with no quotes)."""
    found = []
    for line in aria.splitlines():
        item = line.strip().removeprefix("- ")
        role = item.split(" ", 1)[0].rstrip(":")
        if role in CONTROL_ROLES and '"' not in item.split(":", 1)[0]:
            found.append(line.strip())
    return found


async def test_every_control_has_an_accessible_name(tmp_path: Path) -> None:
    async with Simulator(SIM) as sim, control_room(sim, tmp_path / "data") as room, chromium(tmp_path / "p") as page:
        token = sim.model.active_markets()[0].token_ids[0]
        made = await room.api("POST", "/api/sessions", {"name": "named", "token_ids": [token]})
        order = {"token_id": token, "side": "BUY", "size": "5", "order_type": "limit", "limit_price": "0.01"}
        await room.api("POST", f"/api/sessions/{made['session_id']}/orders", order)
        config = {"token_id": token, "strategy": "mean_reversion", "params": {"order_size": "5"}}
        await room.api("POST", "/api/agents", {"kind": "strategy", "session_id": made["session_id"], "config": config})
        await open_dashboard(page, room)
        await expect(page.locator(".agent-card")).to_have_count(1, timeout=5_000)
        overview = await page.locator("body").aria_snapshot()
        assert 'button "Pause session named"' in overview and 'button "Stop system"' in overview  # it sees controls
        assert unnamed_controls(overview) == []
        assert unnamed_controls('- button\n- textbox: typed\n- button "ok"') == ["- button", "- textbox: typed"]
        views = [
            ("Show details of session named", "#session-dialog"),
            ("New session", "#session-form-dialog"),
            ("Start an agent", "#agent-form-dialog"),
            (re.compile(r"^View logs of agent "), "#log-dialog"),
        ]
        for name, dialog_id in views:
            await page.get_by_role("button", name=name).click()
            dialog = page.locator(dialog_id)
            await expect(dialog).to_be_visible()
            if dialog_id == "#agent-form-dialog":
                await dialog.get_by_text("Save or delete a preset").click()
            if dialog_id == "#session-dialog":
                await expect(
                    dialog.get_by_role("button", name=re.compile(r"^Cancel order .+ of session named$"))
                ).to_have_count(1)
            missing = unnamed_controls(await dialog.aria_snapshot())
            assert missing == [], (dialog_id, missing)
            await page.keyboard.press("Escape")
            await expect(dialog).to_be_hidden()
        assert page.errors == []
