"""Why a forecast row is not the chosen model's own: a reason code, its numbers and (cold starts) a launch day.

A forecast row keeps the reason twice (bakery.models.output REASON_COLUMNS): as fields - `reason_code`,
`launched_on` and `reason_facts` (JSON of the numbers, e.g. {"days": 40, "minimum": 56, "after_gap": false}) -
which the app's explanations read, and as `fallback_reason`, the same reason worded in English for dashboards, the
API and the CSV ("too_short: 40 observed days (< 56)"). Rewording that text changes no reader.

`Reason.parse` reads the text back for what only has the text: gold.forecasts rows written before the fields
existed, and the trained-model table and fitted forecasters, which hand a reason over as its text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

COLD_START = "cold_start"
TOO_SHORT, STALE, TOO_SPARSE, ALL_ZERO, NO_HISTORY, NO_LEVEL = (
    "too_short",
    "stale",
    "too_sparse",
    "all_zero",
    "no_history",
    "no_level",
)
FIT_ERROR, PREDICT_ERROR, DESIGN_ERROR = "fit_error", "predict_error", "design_error"
# The numbers of each code's detail in the text of rows written before reason_facts existed (read by Reason.parse).
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
    """A reason code (too_short, stale, fit_error, cold_start, ...), its free detail, its numbers (`facts`, what
    the app words for a store manager) and the launch day of a cold-start row."""

    code: str
    detail: str = ""
    launched_on: date | None = None
    facts: Mapping[str, int | bool] = field(default_factory=dict)

    def text(self) -> str:
        """The English wording kept in fallback_reason."""
        if self.launched_on is not None:
            return f"{self.code}: not sold here yet (launched {self.launched_on:%Y-%m-%d}); {self.detail}"
        return f"{self.code}: {self.detail}" if self.detail else self.code

    def columns(self, where: np.ndarray | None = None) -> dict[str, Any]:
        """The forecast row's reason columns (bakery.models.output REASON_COLUMNS); with `where` (a boolean per
        row), arrays holding this reason on the rows where it is true and nulls elsewhere."""
        values = {
            "fallback_reason": self.text(),
            "reason_code": self.code or None,
            "launched_on": _as_date(self.launched_on),
            "reason_facts": json.dumps(dict(self.facts), sort_keys=True) if self.facts else None,
        }
        if where is None:
            return values
        mask = np.asarray(where, dtype=bool)
        return {k: np.where(mask, np.array(v, dtype=object), None) for k, v in values.items()}

    @classmethod
    def parse(cls, text: str | None) -> Reason | None:
        """The fields of a reason from its text alone; a text without a code is kept whole as the detail (code
        ''), a detail without the expected form gives no facts."""
        if not isinstance(text, str) or not text.strip():
            return None
        found = _CODE.match(text)
        if found is None:
            return cls("", text)
        code, detail = found["code"], found["detail"]
        launch = _LAUNCH.match(detail) if code == COLD_START else None
        if launch is not None:
            return cls(code, launch["detail"], date.fromisoformat(launch["day"]))
        pattern = _FACTS.get(code)
        numbers = pattern.match(detail) if pattern else None
        facts = (
            {k: (v is not None) if k == "after_gap" else int(v) for k, v in numbers.groupdict().items()}
            if numbers
            else {}
        )
        return cls(code, detail, None, facts)

    @classmethod
    def of_row(cls, row: Mapping[str, Any]) -> Reason | None:
        """The reason of a gold.forecasts row from its columns; from its text (parse) only when the row has no
        reason_code, i.e. was written before the columns existed."""
        code = _value(row.get("reason_code"))
        text = _value(row.get("fallback_reason"))
        if not isinstance(code, str) or not code:
            return cls.parse(text)
        launched = _value(row.get("launched_on"))
        facts = _value(row.get("reason_facts"))
        return cls(
            code,
            text if isinstance(text, str) else "",
            _as_date(launched),
            json.loads(facts) if isinstance(facts, str) and facts else {},
        )


def _value(v: Any) -> Any:
    """None for the nulls a pandas or Arrow frame may hold (None, NaN, NaT, pd.NA)."""
    if v is None:
        return None
    try:
        return None if bool(v != v) else v  # NaN / NaT compare unequal to themselves
    except (TypeError, ValueError):  # pd.NA
        return None


def _as_date(v: Any) -> date | None:
    if v is None:
        return None
    if hasattr(v, "date") and callable(v.date):  # datetime / pd.Timestamp
        return v.date()
    return v if isinstance(v, date) else date.fromisoformat(str(v)[:10])


def too_short(days: int, minimum: int, after_gap: bool) -> Reason:
    """Fewer observed days (after the last long gap, when there is one) than the model needs."""
    return Reason(
        TOO_SHORT,
        f"{days} observed days{' after a gap' if after_gap else ''} (< {minimum})",
        facts={"days": int(days), "minimum": int(minimum), "after_gap": bool(after_gap)},
    )


def stale(days: int, limit: int) -> Reason:
    """The last observation is too long before the cutoff."""
    return Reason(
        STALE,
        f"last observation {days} days before the cutoff (> {limit})",
        facts={"days": int(days), "limit": int(limit)},
    )


def too_sparse(share: float, limit: float) -> Reason:
    """Too few observed days sold anything (shares 0-1; the facts are the whole percents the text shows)."""
    return Reason(
        TOO_SPARSE,
        f"{share:.0%} of observed days sold anything (< {limit:.0%})",
        facts={"share": int(f"{share * 100:.0f}"), "limit": int(f"{limit * 100:.0f}")},
    )


def all_zero() -> Reason:
    return Reason(ALL_ZERO, "every observed day sold 0")


def no_history(detail: str = "no uncensored observation up to the cutoff") -> Reason:
    return Reason(NO_HISTORY, detail)


def no_level() -> Reason:
    """The global challenger has no level for a series without any observation up to the as-of date."""
    return Reason(NO_LEVEL, "no observation up to the as-of date")


def error(code: str, exc: BaseException) -> Reason:
    """A model step failed (fit_error, predict_error, design_error): the exception for the data team."""
    return Reason(code, f"{type(exc).__name__}: {str(exc)[:200]}")


def cold_start(launched_on: date, source: str) -> Reason:
    """The reason of a cold-start row: launched that day, forecast from `source` (its analogues)."""
    return Reason(COLD_START, f"forecast from {source}", launched_on)
