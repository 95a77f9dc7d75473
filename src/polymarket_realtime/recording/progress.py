"""A dependency-free progress bar on stderr (stdout may be a pipe the user is reading)."""

from __future__ import annotations

import sys
from typing import TextIO

from ..clock import SYSTEM_CLOCK, Clock

__all__ = ["ProgressBar"]


class ProgressBar:
    """``\\r``-redrawn bar on a terminal; on a non-terminal, one line per 10% so logs stay readable.

    Args:
        label: shown before the bar.
        stream: where to draw (default stderr).
        width: bar width in characters.
    """

    def __init__(
        self, label: str, *, stream: TextIO | None = None, width: int = 30, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self._clock = clock
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.started = clock.monotonic()
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_decile = -1
        self._last_draw = 0.0

    def update(self, done: int, total: int, extra: str = "") -> None:
        fraction = 1.0 if total <= 0 else min(1.0, max(0.0, done / total))
        now = self._clock.monotonic()
        if self._tty:
            if fraction < 1.0 and now - self._last_draw < 0.1:
                return
            self._last_draw = now
            filled = int(fraction * self.width)
            bar = "#" * filled + "-" * (self.width - filled)
            self.stream.write(f"\r{self.label} [{bar}] {fraction * 100:5.1f}% {extra}".rstrip() + " ")
        else:
            decile = int(fraction * 10)
            if decile == self._last_decile:
                return
            self._last_decile = decile
            self.stream.write(f"{self.label}: {fraction * 100:.0f}% {extra}".rstrip() + "\n")
        self.stream.flush()

    def close(self, message: str = "") -> None:
        elapsed = self._clock.monotonic() - self.started
        end = "\n" if self._tty else ""
        self.stream.write(f"{end}{self.label}: done in {elapsed:.2f} s {message}".rstrip() + "\n")
        self.stream.flush()
