"""PresetStore: the scanner's weight presets, built-in ones plus those saved in SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from ..clock import Clock
from ..errors import InvalidInputError, NotFoundError
from ..storage import presets as presets_db
from ..storage.activity import ActivityFeed
from ..storage.db import Database
from .models import PresetList
from .scanner import BUILTIN_PRESETS, METRICS, validate_weights

__all__ = ["PresetStore"]


class PresetStore:
    def __init__(self, db: Database, activity: ActivityFeed, clock: Clock) -> None:
        self._db = db
        self._activity = activity
        self._clock = clock
        self._presets: dict[str, dict[str, float]] = {}

    async def load(self) -> None:
        self._presets = await self._db.read(presets_db.load_presets)

    def get(self, name: str) -> dict[str, float]:
        found = BUILTIN_PRESETS.get(name) or self._presets.get(name)
        if found is None:
            raise NotFoundError(f"Unknown scanner preset {name!r}.", known=[*BUILTIN_PRESETS, *self._presets])
        return dict(found)

    def listing(self) -> PresetList:
        return PresetList(
            presets={**BUILTIN_PRESETS, **self._presets}, builtin=list(BUILTIN_PRESETS), metrics=list(METRICS)
        )

    async def save(self, name: str, weights: Mapping[str, Any]) -> PresetList:
        name = name.strip()
        if not name or len(name) > 50 or not all(ch.isalnum() or ch in "-_" for ch in name):
            raise InvalidInputError("preset name must be 1-50 letters, digits, '-' or '_'.")
        if name in BUILTIN_PRESETS or name == "custom":
            raise InvalidInputError(f"{name!r} is a built-in preset and cannot be overwritten; pick another name.")
        parsed = validate_weights(weights)
        now = self._clock.time_ns()

        def write(conn: sqlite3.Connection) -> None:
            presets_db.upsert_preset(conn, name, parsed, now)
            self._activity.add(conn, "preset_saved", "system", f"scanner preset {name} saved", {"weights": parsed})

        await self._db.write(write)
        self._presets[name] = parsed
        self._activity.published()
        return self.listing()

    async def delete(self, name: str) -> PresetList:
        if name in BUILTIN_PRESETS:
            raise InvalidInputError(f"{name!r} is a built-in preset and cannot be deleted.")
        if name not in self._presets:
            raise NotFoundError(f"Unknown scanner preset {name!r}.", known=list(self._presets))

        def write(conn: sqlite3.Connection) -> None:
            presets_db.delete_preset(conn, name)
            self._activity.add(conn, "preset_deleted", "system", f"scanner preset {name} deleted")

        await self._db.write(write)
        del self._presets[name]
        self._activity.published()
        return self.listing()
