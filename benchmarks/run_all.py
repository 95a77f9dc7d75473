"""Run every benchmark script in this folder (ingest.py first) and print their output.

Usage: ``.venv/bin/python benchmarks/run_all.py [--quick]``. A script is a ``*.py`` file here with an
``if __name__ == "__main__":`` block (helper modules are skipped); ``--quick`` is passed to the scripts that
mention it. Exits non-zero if any script fails, after running the others.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def scripts() -> list[Path]:
    found = [
        p
        for p in sorted(HERE.glob("*.py"))
        if p.name != "run_all.py" and '__name__ == "__main__"' in p.read_text(encoding="utf-8")
    ]
    found.sort(key=lambda p: (p.name != "ingest.py", p.name))
    return found


def main() -> int:
    failed: list[str] = []
    for script in scripts():
        print(f"=== {script.name} ===", flush=True)
        started = time.monotonic()
        text = script.read_text(encoding="utf-8")
        args = [a for a in sys.argv[1:] if a != "--quick" or "--quick" in text]
        result = subprocess.run([sys.executable, str(script), *args], cwd=HERE, check=False)
        print(f"=== {script.name}: exit {result.returncode} in {time.monotonic() - started:.1f} s ===\n", flush=True)
        if result.returncode != 0:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
