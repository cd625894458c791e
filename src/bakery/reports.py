"""A small shape shared by every step's report: ok, summary lines, and a JSON-able dict."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class StepResult(Protocol):
    ok: bool

    def summary_lines(self) -> list[str]: ...

    def to_dict(self) -> dict[str, Any]: ...


@dataclass
class JobReport:
    """The report of a job made of steps (ingest, pipeline, demo)."""

    job: str
    steps: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    ok: bool = True
    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, name: str, result: StepResult, seconds: float | None = None) -> None:
        self.steps[name] = result
        self.ok = self.ok and bool(result.ok)
        if seconds is not None:
            self.seconds[name] = round(seconds, 2)

    def render(self) -> str:
        lines = [f"{self.job}: {'ok' if self.ok else 'FAILED'}"]
        for name, result in self.steps.items():
            took = f" ({self.seconds[name]:.1f}s)" if name in self.seconds else ""
            lines.append(f"  {name}{took}:")
            lines.extend(f"    {line}" for line in result.summary_lines())
        lines.extend(self.notes)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "ok": self.ok,
            "notes": self.notes,
            "seconds": self.seconds,
            "steps": {k: v.to_dict() for k, v in self.steps.items()},
        }
