"""Settings for a process that runs against the built-in simulator (``--simulate``, ``--replay``)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from ..config import Settings

__all__ = ["simulated_settings"]


def simulated_settings(settings: Settings, sim_env: Mapping[str, str]) -> Settings:
    """Settings from the environment with the simulator's variables (endpoints, ...) on top."""
    del settings  # rebuilt from the same environment so every simulator variable is honoured
    return Settings.from_env({**os.environ, **sim_env})
