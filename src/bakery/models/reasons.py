"""Why a forecast row is not the chosen model's own: a reason code and its fields, kept in one text column.

gold.forecasts keeps one `fallback_reason` text ("too_short: 40 observed days (< 56)", "cold_start: not sold here
yet (launched 2026-03-05); forecast from ..."). Writers build a `Reason` and store `text()`; readers (the app's
explanations) get the fields back with `Reason.parse`, the one parser of that text, so rewording a message here
cannot silently break a reader elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

COLD_START = "cold_start"
TOO_SHORT, STALE, TOO_SPARSE, ALL_ZERO, NO_HISTORY = (
    "too_short",
    "stale",
    "too_sparse",
    "all_zero",
    "no_history",
)
# The numbers each code's detail carries, read back by Reason.facts (the app words them for a store manager).
_FACTS = {
    TOO_SHORT: re.compile(r"^(?P<days>\d+) observed days(?P<after_gap> after a gap)? \(< (?P<minimum>\d+)\)"),
    STALE: re.compile(r"^last observation (?P<days>\d+) days before the cutoff \(> (?P<limit>\d+)\)"),
    TOO_SPARSE: re.compile(r"^(?P<share>\d+)% of observed days sold anything \(< (?P<limit>\d+)%\)"),
}
_CODE = re.compile(r"^(?P<code>[a-z_]+): ?(?P<detail>.*)$", re.DOTALL)
_LAUNCH = re.compile(
    r"^not sold here yet \(launched (?P<day>\d{4}-\d{2}-\d{2})\); (?P<detail>.*)$", re.DOTALL
)


@dataclass(frozen=True)
class Reason:
    """A reason code (too_short, stale, fit_error, cold_start, ...), its free detail, and the launch day of a
    cold-start row."""

    code: str
    detail: str = ""
    launched_on: date | None = None

    def text(self) -> str:
        """The stored form."""
        if self.launched_on is not None:
            return f"{self.code}: not sold here yet (launched {self.launched_on:%Y-%m-%d}); {self.detail}"
        return f"{self.code}: {self.detail}" if self.detail else self.code

    @classmethod
    def parse(cls, text: str | None) -> Reason | None:
        """The fields of a stored reason; a text without a code is kept whole as the detail (code '')."""
        if not isinstance(text, str) or not text.strip():
            return None
        found = _CODE.match(text)
        if found is None:
            return cls("", text)
        code, detail = found["code"], found["detail"]
        launch = _LAUNCH.match(detail) if code == COLD_START else None
        if launch is not None:
            return cls(code, launch["detail"], date.fromisoformat(launch["day"]))
        return cls(code, detail)

    def facts(self) -> dict[str, int | bool]:
        """The numbers in the detail of a too_short, stale or too_sparse reason ({} for other codes or a detail
        that does not have the expected form): e.g. {"days": 20, "minimum": 56, "after_gap": True}."""
        pattern = _FACTS.get(self.code)
        found = pattern.match(self.detail) if pattern else None
        if found is None:
            return {}
        return {k: (v is not None) if k == "after_gap" else int(v) for k, v in found.groupdict().items()}


def too_short(days: int, minimum: int, after_gap: bool) -> Reason:
    """Fewer observed days (after the last long gap, when there is one) than the model needs."""
    return Reason(TOO_SHORT, f"{days} observed days{' after a gap' if after_gap else ''} (< {minimum})")


def stale(days: int, limit: int) -> Reason:
    """The last observation is too long before the cutoff."""
    return Reason(STALE, f"last observation {days} days before the cutoff (> {limit})")


def too_sparse(share: float, limit: float) -> Reason:
    """Too few observed days sold anything (shares 0-1)."""
    return Reason(TOO_SPARSE, f"{share:.0%} of observed days sold anything (< {limit:.0%})")


def cold_start(launched_on: date, source: str) -> Reason:
    """The reason of a cold-start row: launched that day, forecast from `source` (its analogues)."""
    return Reason(COLD_START, f"forecast from {source}", launched_on)
