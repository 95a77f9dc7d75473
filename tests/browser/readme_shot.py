"""Refresh the README screenshot (docs/images/dashboard.png): a busy control room at 1280x800, dark theme.

Not a test: run ``PYTHONPATH=src python -m tests.browser.readme_shot`` from the repository root when the
page's look changes. Uses the browser tests' harness (simulator, real server, Debian's Chromium).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import anyio
from playwright.async_api import async_playwright, expect

from polymarket_realtime.simulator import Simulator, SimulatorConfig
from tests.browser._room import CHROMIUM_ARGS, chromium_path, control_room

OUT = Path(__file__).resolve().parents[2] / "docs" / "images" / "dashboard.png"


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = SimulatorConfig(seed=3, markets=4, rate_per_s=40.0, resolve_after_s=None)
        async with Simulator(config) as sim, control_room(sim, Path(tmp) / "data") as room, async_playwright() as pw:
            token = sim.model.active_markets()[0].token_ids[0]
            demo = await room.api("POST", "/api/sessions", {"name": "demo", "token_ids": [token]})
            sid = demo["session_id"]
            params = {"window": 3, "threshold": "0.9", "order_size": "5", "max_position": "10", "cooldown": 0}
            strategy = {"token_id": token, "strategy": "mean_reversion", "params": params}
            await room.api("POST", "/api/agents", {"kind": "strategy", "config": strategy, "session_id": sid})
            await room.api("POST", "/api/agents", {"kind": "market_scanner", "config": {"preset": "liquidity"}})
            alert = {"token_id": token, "move": "0.01", "repeat": True}
            await room.api("POST", "/api/agents", {"kind": "price_alert", "config": alert})
            for side, size in (("BUY", "10"), ("BUY", "10"), ("SELL", "10"), ("BUY", "5")):
                order = {"token_id": token, "side": side, "size": size, "order_type": "market"}
                await room.api("POST", f"/api/sessions/{sid}/orders", order)
            browser = await pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
            page = await browser.new_page(viewport={"width": 1280, "height": 800}, color_scheme="dark")
            await page.goto(room.login_link)
            await expect(page.locator("#conn-badge")).to_have_text("live", timeout=10_000)
            await expect(page.locator(".agent-card")).to_have_count(3, timeout=10_000)
            await expect(page.locator("#flow-edges path")).to_have_count(1, timeout=10_000)
            await expect(page.locator("#market-rows tr[data-token]")).to_have_count(1, timeout=10_000)
            await page.screenshot(path=str(OUT))
            await browser.close()
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")  # a script's own output, not the server's


if __name__ == "__main__":
    anyio.run(main)
