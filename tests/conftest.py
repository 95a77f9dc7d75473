"""Shared fixtures. Async tests use anyio's pytest plugin on asyncio."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from polymarket_realtime.config import Settings
from polymarket_realtime.simulator import SimAccount, Simulator, SimulatorConfig
from tests.sim_settings import fast_settings


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def simulator(anyio_backend: str) -> AsyncIterator[Simulator]:
    """A started simulator: seed 7, 4 markets, 20 events/s, no scheduled resolution.

    User lifecycles run only on demand (``POST /_sim/user/trade`` or ``simulator.user.start``).
    """
    config = SimulatorConfig(
        seed=7,
        markets=4,
        rate_per_s=20.0,
        resolve_after_s=None,
        rtds_rate_per_s=20.0,
        account=SimAccount(lifecycle_every_s=None, step_delay_s=0.02),
    )
    async with Simulator(config) as sim:
        yield sim


@pytest.fixture
def sim_settings(simulator: Simulator, tmp_path: Path) -> Settings:
    """Settings pointing every endpoint at ``simulator`` with test-speed timings."""
    return fast_settings(simulator, tmp_path)
