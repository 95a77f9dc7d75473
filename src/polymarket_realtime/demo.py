"""``make demo`` / ``python -m polymarket_realtime.demo``: the whole stack offline, through MCP.

Starts the simulator in this process, spawns ``python -m polymarket_realtime serve`` as a subprocess
over stdio pointed at it (the way Claude Desktop runs the server), and drives it with the MCP SDK
``Client`` in legacy mode: search, market details, a Protocol V2 market (62-hex Gamma condition id,
75-digit position ids), subscriptions (order books, prices, a PolyBolt reference price for BTC) read with
cursor long-polls, polled comments, status counters, an injected venue disconnect with automatic recovery,
unsubscribe. Exits 0 in well
under a minute, or prints what went wrong and exits non-zero.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from mcp import Client, StdioServerParameters

from .clock import SYSTEM_CLOCK
from .simulator import Simulator, SimulatorConfig
from .simulator.polybolt import DEVELOPMENT_KEY

__all__ = ["main"]

LIVE_SECONDS = 15.0


class DemoError(Exception):
    pass


def say(text: str = "") -> None:
    print(text, flush=True)


async def call(client: Client, name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    result = await client.call_tool(name, args or {})
    if result.is_error or result.structured_content is None:
        text = " ".join(getattr(block, "text", "") for block in result.content)
        raise DemoError(f"tool {name} failed: {text}")
    return dict(result.structured_content)


def _short(token: str) -> str:
    return f"{token[:6]}…{token[-4:]}" if len(token) > 12 else token


async def stream(
    client: Client, subs: dict[str, str], cursors: dict[str, int], seconds: float, *, quiet: bool = False
) -> dict[str, int]:
    """Long-poll every subscription for ``seconds``; print book tops and trades. Returns type counts."""
    counts: dict[str, int] = {}
    deadline = SYSTEM_CLOCK.monotonic() + seconds
    while SYSTEM_CLOCK.monotonic() < deadline:
        for label, sid in subs.items():
            wait = max(0.0, min(1.0, deadline - SYSTEM_CLOCK.monotonic()))
            page = await call(client, "get_events", {"subscription_id": sid, "after_seq": cursors[sid], "wait_s": wait})
            if page["dropped"]:
                say(f"  [{label}] {page['dropped']} events dropped (buffer overflow)")
            for event in page["events"]:
                if event["seq"] != cursors[sid] + 1:
                    raise DemoError(f"sequence gap on {label}: {cursors[sid]} -> {event['seq']}")
                cursors[sid] = event["seq"]
                etype = event["type"]
                counts[etype] = counts.get(etype, 0) + 1
                data = event["data"]
                if quiet:
                    continue
                if etype == "last_trade_price":
                    say(
                        f"  [{label}] #{event['seq']:<4} TRADE {data.get('side') or '?':4} "
                        f"{data['size']:>8} @ {data['price']}"
                    )
                elif etype == "book" and data.get("book"):
                    book = data["book"]
                    say(
                        f"  [{label}] #{event['seq']:<4} BOOK  bid {book['best_bid']} / ask {book['best_ask']}"
                        f"  spread {book['spread']}  ({len(book['bids'])}x{len(book['asks'])} levels)"
                    )
                elif etype == "best_bid_ask":
                    say(
                        f"  [{label}] #{event['seq']:<4} BBO   {data['best_bid']} / {data['best_ask']}  "
                        f"{_short(event['token_id'])}"
                    )
                elif etype == "reference_price":
                    kind = "snapshot" if data.get("snapshot") else "live"
                    say(
                        f"  [{label}] #{event['seq']:<4} REF   {data['symbol']} {data['value']} "
                        f"({data['channel']}, source {data['source']}, {kind})"
                    )
                elif etype == "feed_status":
                    say(
                        f"  [{label}] #{event['seq']:<4} FEED  {data['channel']} {data['state']} "
                        f"{data.get('detail', '')}"
                    )
            cursors[sid] = max(cursors[sid], page["next_seq"])
    return counts


DASHBOARD = "127.0.0.1:8787"
"""Where ``--dashboard`` serves the control room; POLYMARKET_MCP_DASHBOARD overrides it (``127.0.0.1:0`` = any port)."""


def dashboard_link(data_dir: str, address: str) -> str | None:
    """The login link, from the token file (mode 0600), or None when the port was left to the OS (":0": the
    server printed the link on stderr). The server starts the dashboard before it answers on stdio, so
    once the MCP client is connected the file exists."""
    port = address.rpartition(":")[2]
    if port in ("", "0"):
        return None
    token_file = Path(data_dir) / "http-token"
    if not token_file.exists():
        raise DemoError("the dashboard did not start (no http-token file); see the server's stderr above")
    return f"http://127.0.0.1:{port}/?token={token_file.read_text(encoding='utf-8').strip()}"


async def populate(client: Client, token_id: str) -> str:
    """Something to watch on the dashboard: a session with a position, traded by a strategy; a scanner; an alert."""
    session = await call(client, "create_paper_session", {"name": "demo", "token_ids": [token_id]})
    sid = str(session["session_id"])
    order = {"session_id": sid, "token_id": token_id, "side": "BUY", "size": "20", "order_type": "market"}
    await call(client, "place_paper_order", order)
    params = {"window": 3, "threshold": "0.002", "order_size": "10", "max_position": "50", "cooldown": 1}
    await call(
        client,
        "start_agent",
        {"kind": "strategy", "config": {"token_id": token_id, "params": params}, "session_id": sid},
    )
    await call(client, "start_agent", {"kind": "market_scanner", "config": {"preset": "balanced"}})
    alert = {"token_id": token_id, "move": 0.03, "repeat": True}
    await call(client, "start_agent", {"kind": "price_alert", "config": alert})
    return sid


async def run_demo(dashboard: bool = False, linger: Any = None) -> None:
    config = SimulatorConfig(seed=7, markets=6, rate_per_s=15.0, resolve_after_s=None)
    async with Simulator(config) as sim:
        data_dir = tempfile.mkdtemp(prefix="polymarket-demo-")
        env = {
            **sim.env(),
            "POLYMARKET_MCP_DATA_DIR": data_dir,
            "POLYMARKET_RECONNECT_BASE_S": "0.2",
            "POLYMARKET_RECONNECT_MAX_S": "2",
            "POLYMARKET_MCP_LOG_LEVEL": "WARNING",
            "POLYMARKET_COMMENTS_POLL_S": "2",
            "POLYGON_PRIVATE_KEY": DEVELOPMENT_KEY,  # API credentials are derived from it (PolyBolt needs them)
            **(
                {"POLYMARKET_MCP_DASHBOARD": os.environ.get("POLYMARKET_MCP_DASHBOARD", DASHBOARD)} if dashboard else {}
            ),
        }
        if os.environ.get("PYTHONPATH"):
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]  # the server runs the same source tree as the demo
        params = StdioServerParameters(
            command=sys.executable, args=["-m", "polymarket_realtime", "serve"], env=env, cwd=data_dir
        )
        say(f"simulator: {sim.rest_url} (REST + Gamma), {sim.ws_url} (CLOB sockets), {sim.polybolt_url} (PolyBolt)")
        say("spawning: python -m polymarket_realtime serve   (stdio, legacy MCP handshake like Claude Desktop)")
        started = SYSTEM_CLOCK.monotonic()
        async with Client(params, mode="legacy", read_timeout_seconds=30) as client:
            say(f"connected in {SYSTEM_CLOCK.monotonic() - started:.2f}s\n")
            tools = (await client.list_tools()).tools
            say(f"{len(tools)} tools: {', '.join(sorted(t.name for t in tools))}\n")

            topic = sim.model.active_markets()[0].question.split()[1]
            found = await call(client, "search_markets", {"query": topic, "limit": 3})
            say(f"search_markets({topic!r}) -> {found['count']} market(s)")
            for m in found["markets"]:
                say(f"  - {m['question']}  [{m['slug']}]")
            if not found["markets"]:
                raise DemoError("search returned nothing")
            market = await call(client, "get_market", {"market": found["markets"][0]["slug"]})
            say(f"\nget_market: {market['question']}")
            say(f"  condition_id {market['condition_id']}, tick {market['tick_size']}, ends {market['end_date']}")
            for outcome in market["outcomes"]:
                say(f"  outcome {outcome['name']:>4}: price {outcome['price']}  token_id {outcome['token_id']}")
            yes = market["outcomes"][0]["token_id"]

            v2 = next(m for m in sim.model.active_markets() if m.version == "v2")
            v2_market = await call(client, "get_market", {"market": v2.gamma_condition_id})
            say(f"\nProtocol V2 market, looked up by its Gamma condition id: {v2_market['question']}")
            say(
                f"  version {v2_market['version']}; Gamma id {v2.gamma_condition_id} ({len(v2.gamma_condition_id) - 2} "
                f"hex) = CLOB/socket id {v2_market['condition_id']} ({len(v2_market['condition_id']) - 2} hex)"
            )
            for outcome in v2_market["outcomes"]:
                token = outcome["token_id"]
                say(f"  outcome {outcome['name']:>4}: position id {token} ({len(token)} digits)")

            book_sub = await call(client, "subscribe_orderbook_updates", {"token_ids": [yes], "depth": 5})
            price_sub = await call(client, "subscribe_market_prices", {"market_ids": [market["condition_id"]]})
            v2_sub = await call(client, "subscribe_orderbook_updates", {"market_ids": [v2.slug], "depth": 3})
            btc_sub = await call(client, "subscribe_crypto_prices", {"symbols": ["btc"]})
            subs = {
                "book": book_sub["subscription_id"],
                "prices": price_sub["subscription_id"],
                "v2 book": v2_sub["subscription_id"],
                "btc": btc_sub["subscription_id"],
            }
            cursors = dict.fromkeys(subs.values(), 0)
            say(f"\nsubscribed: {subs}. Live events for {LIVE_SECONDS:.0f}s (get_events long-polls):")
            counts = await stream(client, subs, cursors, LIVE_SECONDS)
            if not counts:
                raise DemoError("no events arrived")
            if not counts.get("reference_price"):
                raise DemoError("no reference price arrived from PolyBolt")

            comments = await call(client, "subscribe_comments", {"event_id": v2.event_id})
            say(f"\nsubscribe_comments(event {v2.event_id}): {comments['next_step'].split('.')[0]}.")
            posted = sim.model.comments.add(v2.event_id, "Protocol V2 books look deep today")
            page = await call(
                client, "get_events", {"subscription_id": comments["subscription_id"], "after_seq": 0, "wait_s": 8}
            )
            polled = [e["data"] for e in page["events"] if e["type"] == "comment"]
            if [c["comment_id"] for c in polled] != [posted["id"]]:
                raise DemoError(f"expected the posted comment once, got {polled}")
            say(f"  new comment {polled[0]['comment_id']}: {polled[0]['body']!r}")

            status = await call(client, "get_realtime_status")
            stats = status["statistics"]
            before = status["connections"]["market"]["reconnects"]
            say(
                f"\nstatus: market socket {status['connections']['market']['state']}, "
                f"{stats['total_events']} events ({stats['events_per_s']:.1f}/s), reconnects {before}, "
                f"malformed {stats['malformed_frames']}"
            )
            for sub in status["subscriptions"]["active"]:
                say(f"  {sub['subscription_id']}: delivered {sub['events_delivered']}, dropped {sub['events_dropped']}")

            say("\ninjecting a venue disconnect (simulator drops every socket)...")
            dropped = sim.faults.drop_all()
            say(f"  {dropped} connection(s) dropped; reading on:")
            recovered = False
            deadline = SYSTEM_CLOCK.monotonic() + 20
            reconnects = before
            while SYSTEM_CLOCK.monotonic() < deadline and not recovered:
                counts = await stream(client, subs, cursors, 2.0)
                status = await call(client, "get_realtime_status")
                reconnects = status["connections"]["market"]["reconnects"]
                recovered = reconnects > before and status["connections"]["market"]["state"] == "connected"
            if not recovered:
                raise DemoError("the feed did not recover within 20 s")
            flowing = await stream(client, subs, cursors, 3.0, quiet=True)
            if not any(n for t, n in flowing.items() if t != "feed_status"):
                raise DemoError("events did not resume after the reconnect")
            say(f"recovered: reconnects {before} -> {reconnects}; {sum(flowing.values())} events in the next 3 s")

            done = await call(client, "unsubscribe_realtime", {"all": True})
            say(f"\nunsubscribed {done['removed']}; demo finished in {SYSTEM_CLOCK.monotonic() - started:.1f}s")
            if linger is not None:
                sid = await populate(client, yes)
                say(f"\npaper session {sid} is running with a strategy agent trading it, a scanner and an alert.")
                link = dashboard_link(data_dir, env["POLYMARKET_MCP_DASHBOARD"])
                say(f"the dashboard stays open at {link or 'the link printed above (dashboard: http://...?token=...)'}")
                await linger()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    dashboard = "--dashboard" in args  # `make demo-dashboard`
    try:
        anyio.run(_bounded, dashboard)
    except DemoError as exc:
        say(f"\nDEMO FAILED: {exc}")
        return 1
    except TimeoutError:
        say("\nDEMO FAILED: took longer than 90 s")
        return 1
    except Exception as exc:  # a demo reports every failure in plain words
        say(f"\nDEMO FAILED: {type(exc).__name__}: {exc}")
        return 1
    return 0


async def _bounded(dashboard: bool = False) -> None:
    deadline = anyio.current_time() + 90
    linger_scope = anyio.CancelScope(deadline=deadline)

    async def linger() -> None:
        linger_scope.deadline = float("inf")  # the 90 s bound covers the demo, not the wait for Enter
        say("press Enter to stop the server and the simulator")
        await anyio.to_thread.run_sync(sys.stdin.readline, abandon_on_cancel=True)

    with linger_scope:
        await run_demo(dashboard, linger if dashboard else None)
    if linger_scope.cancelled_caught:
        raise TimeoutError


if __name__ == "__main__":
    raise SystemExit(main())
