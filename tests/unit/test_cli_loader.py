"""A subcommand module of our own package that fails to import is an error, never a silently missing command."""

from __future__ import annotations

import pytest

from polymarket_realtime import cli


def test_a_missing_subcommand_module_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(cli.SUBCOMMANDS, "ghost", ("polymarket_realtime.cli.no_such_module", "gone"))
    with pytest.raises(ModuleNotFoundError, match="no_such_module"):
        cli.main(["ghost"])
