"""Command line: ``polymarket-realtime-mcp [serve|simulate|doctor|record|backtest|feed|http-token] ...``.

Each subcommand is a module of this package, as a pair ``add_arguments(parser)`` and
``run(args) -> int``; this file only dispatches. No subcommand means ``serve``. Logs go to stderr:
stdout belongs to the MCP stdio transport.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Protocol, cast

from .. import __version__
from ..errors import ConfigError

__all__ = ["main"]

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("polymarket_realtime.cli.serve", "run the MCP stdio server (default)"),
    "simulate": ("polymarket_realtime.cli.simulate", "run the offline Polymarket-protocol simulator"),
    "doctor": ("polymarket_realtime.cli.doctor", "check endpoints, clock skew and credentials"),
    "record": ("polymarket_realtime.cli.record", "record raw venue frames to a file"),
    "backtest": ("polymarket_realtime.cli.backtest", "backtest a strategy over a recording"),
    "feed": ("polymarket_realtime.cli.feed", "run the shared feed process publishing to Redis"),
    "http-token": ("polymarket_realtime.cli.http_token", "print the dashboard login link (creates the token once)"),
}


class _Command(Protocol):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...
    def run(self, args: argparse.Namespace) -> int: ...


def _load(name: str) -> _Command:
    # Every module in SUBCOMMANDS is ours: a missing one is a packaging bug, so it raises.
    return cast(_Command, importlib.import_module(SUBCOMMANDS[name][0]))


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or (args_list[0].startswith("-") and args_list[0] not in {"-h", "--help", "--version"}):
        args_list.insert(0, "serve")
    parser = argparse.ArgumentParser(prog="polymarket-realtime-mcp", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    # Import only the chosen subcommand's module: the others pull in heavy dependencies and `serve`
    # must answer the MCP handshake fast. Help output still lists every subcommand.
    chosen = [args_list[0]] if args_list[0] in SUBCOMMANDS else list(SUBCOMMANDS)
    for name, (_module, help_text) in SUBCOMMANDS.items():
        if name not in chosen:
            sub.add_parser(name, help=help_text)
            continue
        command = _load(name)
        sub_parser = sub.add_parser(name, help=help_text)
        command.add_arguments(sub_parser)
        sub_parser.set_defaults(_run=command.run)
    args = parser.parse_args(args_list)
    try:
        return int(args._run(args))
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
