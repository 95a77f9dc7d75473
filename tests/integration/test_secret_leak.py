"""No secret ever reaches a log record, the server log file or a tool result.

One authenticated session end to end (derive -> subscribe -> events -> status -> diagnosis -> revoked
credentials -> 401 -> re-derive, REST and socket) with every log record captured at DEBUG *before any
redaction* (:class:`RawRecords` snapshots the message and exception text when the record is created:
the server's handlers carry a :class:`~polymarket_realtime.secrets.RedactingFilter` that rewrites the
record in place, so a handler such as ``caplog``'s only ever sees masked text), plus the final outputs:
stderr, the server's own log file and every tool result. A second session uses a rejected environment
trio (the error path). Everything is then searched for the private key, the API key, the secret and the
passphrase of every credential the simulator issued. ``test_scanner_finds_a_logged_secret`` proves the
raw capture would catch code that logs a secret directly.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from polymarket_realtime.auth import credentials as credentials_module
from polymarket_realtime.secrets import Secret
from polymarket_realtime.server.entry import configure_logging
from polymarket_realtime.server.ext_user import EXTENSION
from polymarket_realtime.simulator import SimAccount, SimulatorConfig

from ._mcp_harness import Harness, running

pytestmark = pytest.mark.anyio

KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
ENV_TRIO = {
    "api_key": "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
    "api_secret": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I=",
    "passphrase": "pass-phrase-that-must-not-leak-0123456789",
}
VENUE_LOGGERS = ("websockets.server", "polymarket_realtime.simulator")
FAST: dict[str, Any] = {"ping_interval_s": 0.2, "pong_timeout_s": 1.0, "reconnect_base_s": 0.05, "reconnect_max_s": 0.5}


def _config() -> SimulatorConfig:
    return SimulatorConfig(
        seed=23,
        markets=2,
        rate_per_s=10.0,
        resolve_after_s=None,
        rtds_rate_per_s=0.0,
        account=SimAccount(lifecycle_every_s=None, step_delay_s=0.02),
    )


class RawRecords:
    """Every log record's text as created, before any handler or filter could redact it.

    Installed as the log-record factory, so it sees records of every logger (whatever its handlers or
    ``propagate``) at the moment ``logger.info(...)`` builds them.
    """

    def __init__(self) -> None:
        self.lines: list[tuple[str, int, str]] = []
        self._previous = logging.getLogRecordFactory()

    def _factory(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self._previous(*args, **kwargs)
        text = f"{record.getMessage()} {record.args!r}"
        if record.exc_info and record.exc_info[1] is not None:
            text += " " + logging.Formatter().formatException(record.exc_info)
        self.lines.append((record.name, record.levelno, text))
        return record

    @contextmanager
    def installed(self) -> Iterator[RawRecords]:
        logging.setLogRecordFactory(self._factory)
        try:
            yield self
        finally:
            logging.setLogRecordFactory(self._previous)

    def ours(self) -> list[tuple[str, int, str]]:
        # The simulator plays the venue: its own records (it necessarily sees the credentials) are not ours.
        return [line for line in self.lines if not line[0].startswith(VENUE_LOGGERS)]

    def text(self) -> str:
        return "\n".join(f"{name} {text}" for name, _, text in self.ours())


def leaked(secrets: set[str], text: str) -> list[str]:
    return sorted(s[:6] + "..." for s in secrets if s in text)


@contextmanager
def server_logging() -> Iterator[None]:
    """Restore the root logger's handlers and level (configure_logging replaces them)."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in list(root.handlers):
            if handler not in saved_handlers:
                root.removeHandler(handler)
                handler.close()
        for handler in saved_handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(saved_level)


class Recorder:
    """Keeps every tool result (text blocks and structured content) for the final scan."""

    def __init__(self, h: Harness) -> None:
        self.h = h
        self.texts: list[str] = []

    async def call(self, name: str, args: dict[str, Any] | None = None, *, error: bool = False) -> dict[str, Any]:
        result = await self.h.client.call_tool(name, args or {})
        self.texts.extend(getattr(block, "text", "") for block in result.content)
        self.texts.append(json.dumps(result.structured_content))
        assert result.is_error is error, (name, self.texts[-2:])
        return dict(result.structured_content or {})


def _secrets_of(h: Harness) -> set[str]:
    return {v for c in h.sim.credentials.issued() for v in (c.api_key, c.secret, c.passphrase)}


async def _trade_events(rec: Recorder, sub_id: str, after: int) -> int:
    async with httpx2.AsyncClient(timeout=10.0) as http:
        (trade_id,) = (await http.post(rec.h.sim.rest_url + "/_sim/user/trade", json={})).json()["trade_ids"]
    cursor, seen = after, False
    for _ in range(40):
        page = await rec.call("get_events", {"subscription_id": sub_id, "after_seq": cursor, "wait_s": 2})
        cursor = page["next_seq"]
        if any(
            e["data"].get("trade_id") == trade_id and e["data"]["status"] in ("CONFIRMED", "FAILED")
            for e in page["events"]
        ):
            seen = True
            break
    assert seen, "trade lifecycle not observed"
    return cursor


async def _until_type(rec: Recorder, sub_id: str, etype: str, **data: str) -> None:
    """Long-poll the subscription until an event of ``etype`` (with these data fields) arrived."""
    cursor = 0
    with anyio.fail_after(20):
        while True:
            page = await rec.call("get_events", {"subscription_id": sub_id, "after_seq": cursor, "wait_s": 5})
            for event in page["events"]:
                if event["type"] == etype and all(event["data"].get(k) == v for k, v in data.items()):
                    return
            cursor = page["next_seq"]


async def test_no_secret_in_logs_or_tool_results(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secrets: set[str] = {KEY, KEY[2:], *ENV_TRIO.values()}
    texts: list[str] = []
    log_file = tmp_path / "logs" / "server.log"
    raw = RawRecords()
    with server_logging(), raw.installed():
        # The server's own logging (stderr + rotating file, redacting) at DEBUG; raw records via the factory.
        async with running(
            tmp_path / "a",
            sim_config=_config(),
            extensions=[EXTENSION],
            private_key=Secret(KEY),
            log_level="DEBUG",
            **FAST,
        ) as h:
            configure_logging(h.settings, log_file)
            rec = Recorder(h)
            sub = await rec.call("subscribe_user_trades", {})
            orders = await rec.call("subscribe_user_orders", {"market_ids": [h.market(0).condition_id]})
            # PolyBolt authenticates with the same trio in its first frame.
            ref = await rec.call("subscribe_crypto_prices", {"symbols": ["btc"]})
            await _until_type(rec, ref["subscription_id"], "reference_price")
            cursor = await _trade_events(rec, sub["subscription_id"], 0)
            await rec.call("get_events", {"subscription_id": orders["subscription_id"], "after_seq": 0})
            await rec.call("get_realtime_status", {})
            await rec.call("get_open_orders", {})
            await rec.call("get_recent_trades", {"limit": 5})
            await rec.call("diagnose_connection", {})
            secrets |= _secrets_of(h)

            # Expired-style 401: revoke everything, then REST (re-derive once) and the socket (re-auth).
            async with httpx2.AsyncClient(timeout=10.0) as http:
                await http.post(h.sim.rest_url + "/_sim/auth/revoke")
            await rec.call("get_open_orders", {})
            secrets |= _secrets_of(h)
            h.sim.faults.drop_all()
            cursor = await _trade_events(rec, sub["subscription_id"], cursor)
            await rec.call("get_realtime_status", {})
            await rec.call("get_user_trade", {"trade_id": "unknown-trade"}, error=True)
            await rec.call("unsubscribe_realtime", {"subscription_id": sub["subscription_id"]})
            secrets |= _secrets_of(h)
            texts.extend(rec.texts)

        # Rejected environment trio: the error path through the tools and the socket.
        async with running(
            tmp_path / "b",
            sim_config=_config(),
            extensions=[EXTENSION],
            api_key=Secret(ENV_TRIO["api_key"]),
            api_secret=Secret(ENV_TRIO["api_secret"]),
            passphrase=Secret(ENV_TRIO["passphrase"]),
            address="0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
            **FAST,
        ) as h:
            rec = Recorder(h)
            await rec.call("get_open_orders", {}, error=True)
            await rec.call("subscribe_user_orders", {})
            ref = await rec.call("subscribe_reference_prices", {"symbols": ["eth"]})
            await _until_type(rec, ref["subscription_id"], "feed_status", state="auth_failed")
            report = await rec.call("diagnose_connection", {})
            assert any(c["name"] == "API credentials" and c["status"] == "fail" for c in report["checks"])
            await rec.call("get_realtime_status", {})
            texts.extend(rec.texts)

    secrets = {s for s in secrets if len(s) >= 8}
    assert len(secrets) >= 10  # key, trio, and at least two generations of derived credentials
    records = raw.ours()
    assert len(records) > 50 and any(level == logging.DEBUG for _, level, _ in records)
    stderr = capsys.readouterr().err

    def without_venue(text: str) -> str:
        return "\n".join(line for line in text.splitlines() if not any(v in line for v in VENUE_LOGGERS))

    haystacks = {
        "raw log records": raw.text(),
        "stderr": without_venue(stderr),
        "log file": without_venue(log_file.read_text(encoding="utf-8")),
        "tool results": "\n".join(texts),
    }
    assert "derived Polymarket API credentials" in haystacks["log file"]
    assert "derived Polymarket API credentials" in haystacks["stderr"]
    assert "saved Polymarket API credentials to" in haystacks["raw log records"]
    for where, text in haystacks.items():
        assert not leaked(secrets, text), f"secrets leaked into {where}: {leaked(secrets, text)}"


async def test_scanner_finds_a_logged_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Self-test of the scan: code that logs a secret directly is caught in the raw records (the redacting
    handlers mask it in the final outputs, which is why scanning only those proves nothing)."""
    original = credentials_module.CredentialManager._set

    def leaky_set(self: credentials_module.CredentialManager, creds: Any, source: Any) -> None:
        original(self, creds, source)
        credentials_module.logger.info(
            "LEAK %s %s %s", creds.api_key.reveal(), creds.secret.reveal(), creds.passphrase.reveal()
        )

    monkeypatch.setattr(credentials_module.CredentialManager, "_set", leaky_set)
    raw = RawRecords()
    log_file = tmp_path / "logs" / "server.log"
    with server_logging(), raw.installed():
        async with running(tmp_path, sim_config=_config(), extensions=[EXTENSION], private_key=Secret(KEY)) as h:
            configure_logging(h.settings, log_file)
            await h.call("subscribe_user_trades", {})
            secrets = _secrets_of(h)
    assert len(secrets) == 3
    assert sorted(leaked(secrets, raw.text())) == sorted(s[:6] + "..." for s in secrets)
    # The redacting handlers did mask it downstream: only the raw capture can see such a bug.
    assert "LEAK ***" in log_file.read_text(encoding="utf-8")
    assert not leaked(secrets, log_file.read_text(encoding="utf-8"))
    assert not leaked(secrets, capsys.readouterr().err)
