"""``polymarket-realtime-mcp http-token``: print the dashboard login link (creating the token if needed)."""

from __future__ import annotations

import argparse
import sys

from ..config import Settings
from .auth import load_or_create_token, login_link
from .host import DEFAULT_PORT, parse_dashboard

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default=None, help="host in the link (default: POLYMARKET_MCP_DASHBOARD or 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=None, help=f"port in the link (default: {DEFAULT_PORT})")


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    configured = parse_dashboard(settings.dashboard) if settings.dashboard else None
    host = args.host or (configured.host if configured else "127.0.0.1")
    port = args.port if args.port is not None else (configured.port if configured else DEFAULT_PORT)
    token = load_or_create_token(settings.data_dir)
    # The link is this command's output; it goes to stdout so it can be piped to a browser opener.
    print(login_link(host, port, token), file=sys.stdout)
    return 0
