"""Logging for every subcommand: stderr plus a rotating file, both through the redacting filter.

Stdout is the MCP stdio pipe (``serve``) or the command's report, so logs never go there.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from ..config import Settings
from ..secrets import RedactingFilter

__all__ = ["LOG_FORMAT", "configure_logging", "configure_stderr_logging"]

log = logging.getLogger(__name__)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(settings: Settings, log_file: Path | None = None) -> Path | None:
    """stderr + rotating file handlers, each with the redacting filter. Returns the file path used."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(settings.log_level)
    formatter = logging.Formatter(LOG_FORMAT)
    redacting = RedactingFilter()
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(formatter)
    stderr.addFilter(redacting)
    root.addHandler(stderr)
    path = log_file or settings.log_dir / "server.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(path, maxBytes=5_000_000, backupCount=3, encoding="utf-8")
    except OSError as exc:
        log.warning("cannot open log file %s (%s); logging to stderr only", path, exc)
        return None
    file_handler.setFormatter(formatter)
    file_handler.addFilter(redacting)
    root.addHandler(file_handler)
    # Per-event lines are useful in the file, too noisy on stderr at INFO.
    logging.getLogger("polymarket_realtime.events").propagate = True
    return path


def configure_stderr_logging(level: int | str, fmt: str | None = None) -> None:
    """stderr only, through the redacting filter, for short-lived commands (``doctor``, ``simulate``).

    A no-op when logging is already set up (``logging.basicConfig`` semantics).
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    if fmt is not None:
        handler.setFormatter(logging.Formatter(fmt))
    logging.basicConfig(level=level, handlers=[handler])
