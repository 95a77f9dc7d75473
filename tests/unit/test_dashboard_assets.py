"""The dashboard's static files: every referenced file ships in the package, nothing loads from the network."""

from __future__ import annotations

import re
from pathlib import Path

import polymarket_realtime.http as http_pkg

STATIC = Path(http_pkg.__file__).parent / "static"


def test_every_referenced_asset_exists() -> None:
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    referenced = set(re.findall(r'(?:src|href)="static/([^"]+)"', page))
    assert {"app.js", "app.css", "theme.js"} <= referenced
    for script in STATIC.glob("*.js"):
        referenced |= set(re.findall(r'from "\./([^"]+)"', script.read_text(encoding="utf-8")))
    missing = sorted(name for name in referenced if not (STATIC / name).is_file())
    assert not missing, f"referenced but not in the package: {missing}"


def test_works_offline_no_remote_urls() -> None:
    for path in STATIC.iterdir():
        text = path.read_text(encoding="utf-8")
        remote = [u for u in re.findall(r"https?://[^\s\"'<>)]+", text) if u != "http://www.w3.org/2000/svg"]
        assert not remote, f"{path.name} loads from the network: {remote}"
