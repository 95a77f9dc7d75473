"""Recording and backtest tools through the MCP SDK Client, against the simulator."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from polymarket_realtime.recording.reader import RecordingReader
from polymarket_realtime.server.ext_recording import EXTENSION
from polymarket_realtime.simulator import SimulatorConfig

from ._mcp_harness import running


@pytest.mark.anyio
async def test_record_list_stop_and_backtest_with_progress(tmp_path: Path) -> None:
    config = SimulatorConfig(seed=3, markets=2, rate_per_s=150.0, resolve_after_s=None, rtds_rate_per_s=0.0)
    async with running(tmp_path, sim_config=config, extensions=[EXTENSION]) as h:
        names = {tool.name for tool in (await h.client.list_tools()).tools}
        assert {"start_recording", "stop_recording", "list_recordings", "run_backtest"} <= names
        market = h.market(0)
        started = await h.call("start_recording", {"market_ids": [market.condition_id], "name": "mcp test"})
        recording_id = started["recording_id"]
        assert started["state"] == "recording" and sorted(started["token_ids"]) == sorted(market.token_ids)
        # Wait (bounded) until the simulator has pushed a good number of frames to our socket.
        await h.sim.wait_until(lambda: sum(c.frames_sent for c in h.sim.observed.on("/ws/market")) >= 60, 20)
        listed = await h.call("list_recordings")
        assert [r["state"] for r in listed["recordings"] if r["recording_id"] == recording_id] == ["recording"]
        stopped = await h.call("stop_recording", {"recording_id": recording_id})
        assert stopped["state"] == "stopped" and stopped["frames"] > 0
        listed = await h.call("list_recordings")
        (entry,) = [r for r in listed["recordings"] if r["recording_id"] == recording_id]
        assert entry["state"] == "stopped" and entry["bytes"] > 0 and entry["market_ids"] == [market.condition_id]

        seen: list[tuple[float, float | None]] = []

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            seen.append((progress, total))

        result = await h.client.call_tool(
            "run_backtest",
            {"recording_id": recording_id, "config": {"window": 3, "threshold": "0.001"}, "starting_cash": "500"},
            progress_callback=on_progress,
        )
        assert not result.is_error, result.content
        body = result.structured_content
        assert body is not None
        summary = body["summary"]
        assert summary["frames"] == stopped["frames"] and summary["starting_cash"] == "500"
        assert {"return", "max_drawdown", "trades", "win_rate", "fees"} <= set(summary)
        for file in body["files"].values():
            assert await anyio.Path(file).is_file()
        assert seen and seen[-1][0] == seen[-1][1]  # the last notification reports completion
        # Intermediate progress (at least every 1% of the file), strictly increasing, even for this short recording.
        assert any(0 < done < (total or 0) for done, total in seen[:-1])
        assert [d for d, _ in seen] == sorted({d for d, _ in seen})

        # Only recordings inside the recordings directory: no paths (relative or absolute).
        for ref in ("../" + recording_id, entry["path"]):
            error = await h.call_error("run_backtest", {"recording_id": ref})
            assert "not a path" in error
        error = await h.call_error("run_backtest", {"recording_id": "nope"})
        assert "no recording 'nope'" in error and recording_id in error
        error = await h.call_error("run_backtest", {"recording_id": recording_id, "strategy": "martingale"})
        assert "unknown strategy" in error and "mean_reversion" in error
        error = await h.call_error("stop_recording", {"recording_id": recording_id})
        assert "no active recording" in error
        error = await h.call_error("start_recording", {})
        assert "token_ids" in error
        # Left running on purpose: server shutdown must still close it cleanly.
        open_at_exit = await h.call("start_recording", {"token_ids": [market.token_ids[0]]})
    reader = RecordingReader(Path(open_at_exit["path"]))
    list(reader.frames())  # no damage
    assert reader.footers, "the recording was not closed at shutdown"
