"""The doctor's report: one :class:`Check` per probe (``ok``, ``warn``, ``fail`` or ``skip``) and its rendering."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ..secrets import redactor

__all__ = ["Check", "DoctorReport", "Status"]

Status = Literal["ok", "warn", "fail", "skip"]


@dataclass(slots=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""


@dataclass(slots=True)
class DoctorReport:
    checks: list[Check] = field(default_factory=list)
    clock_skew_s: float | None = None
    address: str | None = None

    @property
    def ok(self) -> bool:
        return all(c.status != "fail" for c in self.checks)

    def get(self, name: str) -> Check:
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "address": self.address,
            "clock_skew_s": self.clock_skew_s,
            "checks": [asdict(c) for c in self.checks],
        }

    def render(self) -> str:
        marks = {"ok": "OK  ", "warn": "WARN", "fail": "FAIL", "skip": "SKIP"}
        lines = []
        for c in self.checks:
            lines.append(f"[{marks[c.status]}] {c.name}: {c.detail}")
            if c.fix:
                lines.append(f"       -> {c.fix}")
        verdict = "all checks passed" if self.ok else "some checks failed"
        lines.append(
            f"{verdict} ({sum(c.status == 'fail' for c in self.checks)} failed, "
            f"{sum(c.status == 'warn' for c in self.checks)} warnings)"
        )
        return redactor.scrub("\n".join(lines))
