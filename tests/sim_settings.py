"""Settings that point every endpoint at a simulator, with test-speed timings (shared by tests)."""

from __future__ import annotations

from pathlib import Path

from polymarket_realtime.config import Settings
from polymarket_realtime.simulator import Simulator

__all__ = ["fast_settings"]


def fast_settings(sim: Simulator, tmp_path: Path, **overrides: object) -> Settings:
    """Every URL at ``sim``; pings, timeouts and backoff scaled down so failures show in about a second."""
    base = Settings(
        clob_ws_url=sim.ws_url,
        rtds_ws_url=sim.rtds_url,
        polybolt_ws_url=sim.polybolt_url,
        sports_ws_url=sim.sports_url,
        clob_url=sim.rest_url,
        gamma_url=sim.rest_url,
        data_dir=tmp_path,
        ping_interval_s=0.2,
        pong_timeout_s=1.0,
        reconnect_base_s=0.05,
        reconnect_max_s=0.5,
        market_idle_timeout_s=1.5,
        rtds_ping_interval_s=0.2,
        rtds_idle_timeout_s=1.5,
        sports_silence_timeout_s=1.5,
        snapshot_fallback_s=0.5,
        http_timeout_s=5.0,
    )
    return base.replace(**overrides) if overrides else base
