"""``polymarket-realtime-mcp record`` as a real process against the simulator, then read it back."""

from __future__ import annotations

import os
import re
import signal
import sys
from pathlib import Path

import anyio
import pytest

from polymarket_realtime.recording.reader import RecordingReader
from polymarket_realtime.simulator import Simulator, SimulatorConfig

KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def _env(sim: Simulator, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, **sim.env(), "POLYMARKET_MCP_DATA_DIR": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1"}


@pytest.mark.anyio
async def test_record_cli_by_duration_and_by_markets(tmp_path: Path) -> None:
    config = SimulatorConfig(
        seed=2, markets=2, rate_per_s=100.0, resolve_after_s=None, rtds_rate_per_s=20.0, polybolt_rate_per_s=20.0
    )
    async with Simulator(config) as sim:
        market = sim.model.markets[0]
        out = tmp_path / "cli-run.jsonl.gz"
        cmd = [sys.executable, "-m", "polymarket_realtime", "record", "--markets", market.condition_id]
        cmd += ["--reference", "crypto:BTC", "--out", str(out), "--duration", "2.0", "--quiet"]
        env = {**_env(sim, tmp_path), "POLYGON_PRIVATE_KEY": KEY}  # PolyBolt needs API credentials
        with anyio.fail_after(60):
            done = await anyio.run_process(cmd, env=env, cwd=tmp_path, check=False)
        assert done.returncode == 0, done.stderr.decode()
        assert b"recorded" in done.stderr
    reader = RecordingReader(out)
    frames = list(reader.frames())
    assert reader.header is not None and sorted(reader.header.token_ids) == sorted(market.token_ids)
    assert reader.header.market_ids == [market.condition_id]
    assert reader.header.markets and reader.header.markets[0]["slug"] == market.slug  # Gamma metadata kept
    assert reader.footers and reader.footers[-1].frames == len(frames)
    assert reader.header.reference == ["crypto:btcusd"]
    assert {f.channel for f in frames} == {"market", "polybolt"}
    # Only PolyBolt data envelopes are kept: no acks, and never anything of the auth frame we sent.
    polybolt = [f.text() for f in frames if f.channel == "polybolt"]
    assert all('"op"' not in t and "secret" not in t and "passphrase" not in t for t in polybolt)
    assert any('"snapshot":true' in t for t in polybolt) and any('"snapshot"' not in t for t in polybolt)
    assert frames[0].channel == "market" and frames[0].text().startswith("[")  # the initial dump comes first
    assert all(f.ts_recv_ns > 0 for f in frames)


@pytest.mark.anyio
async def test_record_cli_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    config = SimulatorConfig(seed=2, markets=2, rate_per_s=100.0, resolve_after_s=None, rtds_rate_per_s=0.0)
    async with Simulator(config) as sim:
        token = sim.model.markets[1].token_ids[0]
        out = tmp_path / "sig.jsonl.gz"
        cmd = [sys.executable, "-m", "polymarket_realtime", "record", "--tokens", token, "--out", str(out)]
        with anyio.fail_after(60):
            async with await anyio.open_process(cmd, env=_env(sim, tmp_path), cwd=tmp_path) as process:
                assert process.stderr is not None
                buffered = b""
                async for chunk in process.stderr:  # wait for the first status line: frames are flowing
                    buffered += chunk
                    if b"frames" in buffered.split(b"recording", 1)[-1]:
                        break
                process.send_signal(signal.SIGTERM)
                assert await process.wait() == 0
    reader = RecordingReader(out)
    frames = list(reader.frames())
    assert frames and reader.footers  # closed with a footer: no damage


@pytest.mark.anyio
async def test_record_cli_killed_keeps_everything_it_reported_written(tmp_path: Path) -> None:
    config = SimulatorConfig(seed=4, markets=2, rate_per_s=200.0, resolve_after_s=None, rtds_rate_per_s=0.0)
    async with Simulator(config) as sim:
        token = sim.model.markets[0].token_ids[0]
        out = tmp_path / "killed.jsonl.gz"
        cmd = [sys.executable, "-m", "polymarket_realtime", "record", "--tokens", token, "--out", str(out)]
        reported = 0
        with anyio.fail_after(60):
            async with await anyio.open_process(cmd, env=_env(sim, tmp_path), cwd=tmp_path) as process:
                assert process.stderr is not None
                buffered = b""
                async for chunk in process.stderr:
                    buffered += chunk
                    # Status lines: "   1.0 s        35 frames        3.4 KiB  dropped 0" (frames on disk).
                    counts = [int(n.replace(b",", b"")) for n in re.findall(rb"([\d,]+) frames", buffered)]
                    if len(counts) >= 2 and counts[-1] > 0:
                        reported = counts[-1]
                        break
                process.kill()  # SIGKILL: no handler, no footer, no final flush
                await process.wait()
    reader = RecordingReader(out)
    frames = list(reader.frames(on_error="stop"))
    assert len(frames) >= reported > 0
    assert not reader.footers  # it really died without closing
    if reader.error is not None:  # killed mid-member: only that member is lost, and it is named
        assert reader.error.offset > 0 and "truncated" in str(reader.error)


@pytest.mark.anyio
@pytest.mark.parametrize("topic", ["crypto_prices", "crypto_prices_chainlink:update", "equity_prices"])
async def test_record_cli_refuses_the_retired_rtds_price_topics(tmp_path: Path, topic: str) -> None:
    cmd = [sys.executable, "-m", "polymarket_realtime", "record", "--rtds", topic, "--duration", "1", "--quiet"]
    env = {**os.environ, "POLYMARKET_MCP_DATA_DIR": str(tmp_path / "data")}
    with anyio.fail_after(60):
        done = await anyio.run_process(cmd, env=env, cwd=tmp_path, check=False)
    assert done.returncode == 2
    err = done.stderr.decode()
    assert "retired" in err and "use --reference crypto:btcusd" in err and topic.partition(":")[0] in err
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").rglob("*.jsonl.gz"))
