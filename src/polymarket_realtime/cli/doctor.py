"""``polymarket-realtime-mcp doctor``: print the diagnosis and exit 0 if nothing failed.

The checks are :func:`polymarket_realtime.diagnostics.doctor.diagnose`.

This is a command-line tool, not the MCP server: its report goes to stdout, logs to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys

import anyio

from ..config import Settings
from ..diagnostics.doctor import diagnose
from ..errors import PolymarketRealtimeError
from ..secrets import redactor
from .logging import configure_stderr_logging

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per network check (default 5)")


def run(args: argparse.Namespace) -> int:
    """``polymarket-realtime-mcp doctor``: exit 0 when nothing failed, 1 otherwise."""
    settings = Settings.from_env()
    configure_stderr_logging(settings.log_level)
    try:
        report = anyio.run(lambda: diagnose(settings, timeout_s=float(args.timeout)))
    except PolymarketRealtimeError as exc:
        print(f"doctor: {redactor.scrub(str(exc))}", file=sys.stderr)
        return 1
    if args.json:
        print(redactor.scrub(json.dumps(report.to_dict(), indent=2)))
    else:
        print(report.render())
    return 0 if report.ok else 1
