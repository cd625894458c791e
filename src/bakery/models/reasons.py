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


def cold_start(launched_on: date, source: str) -> Reason:
    """The reason of a cold-start row: launched that day, forecast from `source` (its analogues)."""
    return Reason(COLD_START, f"forecast from {source}", launched_on)
