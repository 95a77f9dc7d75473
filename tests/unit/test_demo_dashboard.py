"""``make demo-dashboard``: the link it prints comes from the server's token file, and a missing file is a
clear demo failure rather than a link that cannot log in."""

from __future__ import annotations

from pathlib import Path

import pytest

from polymarket_realtime.demo import DemoError, dashboard_link


def test_link_carries_the_token_from_the_data_dir(tmp_path: Path) -> None:
    (tmp_path / "http-token").write_text("abc123-token\n", encoding="utf-8")
    assert dashboard_link(str(tmp_path), "127.0.0.1:8123") == "http://127.0.0.1:8123/?token=abc123-token"


def test_any_port_leaves_the_link_to_the_servers_stderr(tmp_path: Path) -> None:
    (tmp_path / "http-token").write_text("abc123-token\n", encoding="utf-8")
    assert dashboard_link(str(tmp_path), "127.0.0.1:0") is None


def test_no_token_file_means_the_dashboard_did_not_start(tmp_path: Path) -> None:
    with pytest.raises(DemoError, match="dashboard did not start"):
        dashboard_link(str(tmp_path), "127.0.0.1:8123")
