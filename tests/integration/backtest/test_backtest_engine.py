"""Backtest engine: determinism on the shipped recording, and a tiny hand-checked run."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from polymarket_realtime.backtest import run_backtest
from polymarket_realtime.cli.backtest import add_arguments, run as cli_run
from polymarket_realtime.errors import InvalidInputError, RecordingError
from polymarket_realtime.recording.format import RecordingHeader, encode_frame_line
from polymarket_realtime.recording.reader import iter_members
from polymarket_realtime.recording.writer import RecordingWriter

FIXTURE = Path(__file__).parents[2] / "fixtures" / "recordings" / "sim_seed7.jsonl.gz"
TOKEN = "1234567890"
MARKET = "0x" + "cd" * 32
S = 1_000_000_000


def _book(bid: str, ask: str) -> str:
    return json.dumps(
        {
            "event_type": "book",
            "asset_id": TOKEN,
            "market": MARKET,
            "bids": [{"price": "0.01", "size": "1000"}, {"price": bid, "size": "100"}],
            "asks": [{"price": "0.99", "size": "1000"}, {"price": ask, "size": "100"}],
            "timestamp": "1",
            "hash": "x",
            "tick_size": "0.01",
        }
    )


def _tiny(tmp_path: Path) -> Path:
    """Mids 0.50, 0.52, 0.46 (BUY 10 @ ask 0.47), 0.50, 0.56 (SELL 10 @ bid 0.55), one second apart."""
    quotes = [("0.49", "0.51"), ("0.51", "0.53"), ("0.45", "0.47"), ("0.49", "0.51"), ("0.55", "0.57")]
    writer = RecordingWriter(
        tmp_path, RecordingHeader(recording_id="tiny", created_ns=0, token_ids=[TOKEN]), fsync=False
    )
    for i, (bid, ask) in enumerate(quotes, start=1):
        writer.write_lines([encode_frame_line("market", i * S, _book(bid, ask))])
    writer.close()
    return writer.path


PARAMS = {"window": 3, "threshold": "0.02", "order_size": "10", "cooldown": 0}


@pytest.mark.anyio
async def test_hand_checked_tiny_backtest(tmp_path: Path) -> None:
    result = await run_backtest(_tiny(tmp_path), "mean_reversion", {**PARAMS, "fee_bps": 100}, Decimal(1000))
    assert [(f["side"], f["price"], f["size"], f["fee"], f["ts_ms"]) for f in result.fills] == [
        ("BUY", "0.47", "10", "0.047", "3000"),  # 1% of 4.70 notional
        ("SELL", "0.55", "10", "0.055", "5000"),  # 1% of 5.50
    ]
    assert [f["fill_id"] for f in result.fills] == ["o1-f1", "o2-f1"]
    s = result.summary
    # 1000 - 4.70 - 0.047 + 5.50 - 0.055 = 1000.698
    assert s["final_equity"] == "1000.698" and s["final_cash"] == "1000.698"
    assert s["return"] == "0.000698" and s["fees"] == "0.102"
    assert s["trades"] == 2 and s["closing_trades"] == 1 and s["win_rate"] == "1"
    # Lowest point: after the BUY, cash 995.253 + 10 * mid 0.46 = 999.853 against the 1000 peak.
    assert s["max_drawdown"] == "0.000147"
    assert [(r["ts_ms"], r["equity"]) for r in result.equity] == [
        ("1000", "1000"),
        ("2000", "1000"),
        ("3000", "999.853"),
        ("4000", "1000.253"),
        ("5000", "1000.698"),
    ]


@pytest.mark.anyio
async def test_same_inputs_give_identical_outputs(tmp_path: Path) -> None:
    config = {"window": 5, "threshold": "0.005", "order_size": "10"}
    first = await run_backtest(FIXTURE, "mean_reversion", config, Decimal(1000))
    second = await run_backtest(FIXTURE, "mean_reversion", config, Decimal(1000))
    a, b = first.write(tmp_path / "a"), second.write(tmp_path / "b")
    for name in ("summary", "fills", "equity"):
        assert a[name].read_bytes() == b[name].read_bytes()
    assert first.summary["trades"] > 0  # the run did something worth comparing
    assert first.summary["frames"] > 1000
    header = a["fills"].read_text().splitlines()[0]
    assert header == "fill_id,order_id,ts_ms,token_id,side,price,size,fee,liquidity"


@pytest.mark.anyio
async def test_bad_inputs_and_damaged_recordings(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="unknown strategy"):
        await run_backtest(FIXTURE, "nope", {}, Decimal(1000))
    with pytest.raises(InvalidInputError, match="unknown mean_reversion params"):
        await run_backtest(FIXTURE, "mean_reversion", {"windw": 3}, Decimal(1000))
    path = _tiny(tmp_path)
    offsets = [o for o, _ in iter_members(path)]
    path.write_bytes(path.read_bytes()[: offsets[4] + 3])
    with pytest.raises(RecordingError, match=f"byte offset {offsets[4]}"):
        await run_backtest(path, "mean_reversion", PARAMS, Decimal(1000))
    # Opting in backtests the valid prefix (the BUY at 3 s) and says where the file is damaged.
    prefix = await run_backtest(path, "mean_reversion", PARAMS, Decimal(1000), allow_damaged=True)
    assert [f["side"] for f in prefix.fills] == ["BUY"] and prefix.summary["frames"] == 3
    assert f"byte offset {offsets[4]}" in prefix.summary["recording_error"]


def test_cli_writes_files_and_a_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    out = tmp_path / "out"
    args = parser.parse_args(
        ["--recording", str(_tiny(tmp_path)), "--config", json.dumps(PARAMS), "--out", str(out), "--png"]
    )
    assert cli_run(args) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["trades"] == 2
    assert "backtest" in captured.err  # the progress bar and the file list go to stderr
    assert (out / "equity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "fills.csv").read_text().count("\n") == 3
    bad = parser.parse_args(["--recording", str(tmp_path / "missing.jsonl.gz"), "--out", str(out)])
    assert cli_run(bad) == 1
    assert "cannot open recording" in capsys.readouterr().err


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"equity_interval_s": "abc"}, "equity_interval_s must be a number"),
        ({"equity_interval_s": [1]}, "equity_interval_s must be a number"),
        ({"equity_interval_s": 0}, "equity_interval_s must be a positive"),
        ({"fee_bps": "x"}, "fee_bps must be a number"),
        ({"fee_bps": "NaN"}, "fee_bps must be a finite number"),
        ({"fee_bps": -1}, "fee_bps must be a number >= 0"),
        ({"risk": "tight"}, "risk must be an object"),
    ],
)
async def test_bad_backtest_options_are_clear_input_errors(
    tmp_path: Path, config: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        await run_backtest(_tiny(tmp_path), "mean_reversion", {**PARAMS, **config}, Decimal(1000))


def test_cli_bad_config_fails_with_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    recording = str(_tiny(tmp_path))
    cases = [
        ('{"equity_interval_s":"abc"}', "equity_interval_s must be a number"),
        ('{"fee_bps":"x"}', "fee_bps must be a number"),
        (f"@{tmp_path / 'missing.json'}", "cannot read --config file"),
        ("[1]", "--config must be a JSON object"),
    ]
    for raw, message in cases:
        args = parser.parse_args(["--recording", recording, "--config", raw, "--out", str(tmp_path / "o"), "--quiet"])
        assert cli_run(args) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
        assert err.startswith("backtest failed: ") and err.count("\n") == 1


@pytest.mark.anyio
async def test_progress_reported_at_least_every_percent_even_for_a_tiny_recording(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    path = _tiny(tmp_path)
    await run_backtest(path, "mean_reversion", PARAMS, Decimal(1000), progress=lambda d, t: calls.append((d, t)))
    total = path.stat().st_size
    assert calls[-1] == (total, total)
    done = [d for d, _ in calls]
    # One report per frame here (5 frames, each well over 1% of the file), then the final one; strictly
    # increasing, as MCP progress must be. Before: only the final report (every 5,000 frames).
    assert len(done) == 6 and done == sorted(set(done)) and 0 < done[0] < total


@pytest.mark.anyio
async def test_each_event_reaches_only_the_agents_of_its_token(monkeypatch: pytest.MonkeyPatch) -> None:
    from polymarket_realtime.agents.strategy import StrategyAgent

    calls: list[tuple[str, str]] = []
    real = StrategyAgent.on_event

    async def counting(self: StrategyAgent, event: object) -> None:
        calls.append((self.config["token_id"], str(getattr(event, "asset_id", ""))))
        await real(self, event)  # type: ignore[arg-type]

    monkeypatch.setattr(StrategyAgent, "on_event", counting)
    result = await run_backtest(FIXTURE, "mean_reversion", {"window": 5, "threshold": "0.005"}, Decimal(1000))
    assert len(result.summary["token_ids"]) == 4 and result.summary["trades"] > 0
    assert calls and all(agent == token for agent, token in calls)
    assert len({agent for agent, _ in calls}) == 4
