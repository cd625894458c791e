"""Manager overrides of the bake plan: the rules a new quantity must meet, and how an override is scored.

A manager who knows something the forecast does not (a fair in the square, a heat wave, a late delivery) may bake
another quantity than the plan's. The app checks the new quantity against the rules here (pure Python, shared with
the docs' confirmation rule), records it and lands it as a CSV under landing/overrides/; the nightly decisions step
takes the landed rows into silver.bake_overrides and, once the day's sales are in, scores each override against
the plan it replaced: the cost of the overridden quantity against the plan's at that day's demand, with the plan
row's cu and co. Forecast value added (FVA) = plan cost - override cost: positive when the manager helped.

Pandas only: the app imports the rules, the pipeline the scoring.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bakery.config import conf_file, read_yaml
from bakery.decisions.costs import money_cost
from bakery.decisions.ledger import censored_demand

REASON_CODES = ("event", "weather", "supplier", "other")
OVERRIDES_KIND = "overrides"  # the landing folder the app writes and the decisions step reads
FILE_PREFIX = "app_override_"
OVERRIDE_COLUMNS = [
    "override_id",
    "store_id",
    "product_id",
    "date",
    "plan_quantity",
    "quantity",
    "reason_code",
    "note",
    "username",
    "created_at",
]
SCORE_COLUMNS = [
    "override_id",
    "store_id",
    "product_id",
    "date",
    "username",
    "reason_code",
    "plan_quantity",
    "quantity",
    "demand",
    "demand_censored",
    "cu",
    "co",
    "plan_cost",
    "override_cost",
    "fva_eur",
    "fva_units",
]
KEYS = ["store_id", "product_id", "date"]


class OverrideError(ValueError):
    """A refused override. `field` names the form field (quantity, reason_code, note, confirm) and `code` the
    rule, so the app can say it in the manager's language."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.code = code


@dataclass(frozen=True)
class OverrideRules:
    """conf/bake_plan.yml `overrides:`. A quantity above confirm_factor x the plan, or below plan / confirm_factor,
    needs an explicit confirmation and a note; one above max_quantity units is refused as a typing slip."""

    confirm_factor: float = 1.5
    max_quantity: float = 5000.0
    note_max_chars: int = 500


def load_override_rules(
    conf_dir: str | Path | None = None, raw: dict[str, Any] | None = None
) -> OverrideRules:
    """The `overrides:` block of conf/bake_plan.yml (defaults where absent); a bad value is refused naming it."""
    if raw is None:
        raw = read_yaml(conf_file(conf_dir, "bake_plan.yml"))
    block = raw.get("overrides") or {}
    unknown = sorted(set(block) - {"confirm_factor", "max_quantity", "note_max_chars"})
    if unknown:
        raise ValueError(f"bake_plan.yml overrides: unknown key(s) {unknown}")
    rules = OverrideRules(
        confirm_factor=float(block.get("confirm_factor", OverrideRules.confirm_factor)),
        max_quantity=float(block.get("max_quantity", OverrideRules.max_quantity)),
        note_max_chars=int(block.get("note_max_chars", OverrideRules.note_max_chars)),
    )
    if not rules.confirm_factor > 1:
        raise ValueError(f"bake_plan.yml overrides.confirm_factor must be > 1, got {rules.confirm_factor}")
    if not rules.max_quantity > 0:
        raise ValueError(f"bake_plan.yml overrides.max_quantity must be > 0, got {rules.max_quantity}")
    return rules


def needs_confirmation(plan_quantity: float, quantity: float, rules: OverrideRules) -> bool:
    """True when the new quantity lies above confirm_factor x the plan or below plan / confirm_factor (a plan of
    0 confirms any positive quantity)."""
    f = rules.confirm_factor
    return quantity > f * plan_quantity or quantity < plan_quantity / f


def parse_quantity(value: Any, rules: OverrideRules) -> float:
    """A typed quantity as whole units; refused (field `quantity`) when empty, not a number, negative, fractional
    or above max_quantity."""
    text = str(value if value is not None else "").strip().replace(",", ".")
    if not text:
        raise OverrideError("quantity", "missing", "a quantity is required")
    try:
        number = float(text)
    except ValueError:
        raise OverrideError("quantity", "not_number", f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise OverrideError("quantity", "not_number", f"{value!r} is not a number")
    if number < 0:
        raise OverrideError("quantity", "negative", f"{number:g} is negative")
    if number != int(number):
        raise OverrideError("quantity", "whole", f"{number:g} is not a whole number of units")
    if number > rules.max_quantity:
        raise OverrideError("quantity", "absurd", f"{number:g} is above {rules.max_quantity:g} units")
    return number


def check_override(
    plan_quantity: float,
    quantity: Any,
    reason_code: str | None,
    note: str | None,
    confirmed: bool,
    rules: OverrideRules,
) -> tuple[float, str]:
    """(quantity, note) of a valid override, else OverrideError naming the field. A quantity beyond the confirm
    factor needs `confirmed` and a note: raised as field `confirm` (code `needed`) or `note` (code `required`)."""
    qty = parse_quantity(quantity, rules)
    if reason_code not in REASON_CODES:
        raise OverrideError("reason_code", "unknown", f"{reason_code!r} is not one of {list(REASON_CODES)}")
    text = " ".join(str(note or "").split())
    if len(text) > rules.note_max_chars:
        raise OverrideError("note", "too_long", f"at most {rules.note_max_chars} characters")
    if needs_confirmation(plan_quantity, qty, rules):
        if not text:
            raise OverrideError("note", "required", "a note is required for so large a change")
        if not confirmed:
            raise OverrideError("confirm", "needed", "confirm so large a change")
    return qty, text


def latest(overrides: pd.DataFrame) -> pd.DataFrame:
    """The override in force per store, product and day: the latest created (ties: the larger id)."""
    if overrides.empty:
        return overrides
    ordered = overrides.sort_values(["created_at", "override_id"])
    return ordered.drop_duplicates(KEYS, keep="last").reset_index(drop=True)


def score_overrides(
    overrides: pd.DataFrame,
    plan: pd.DataFrame,
    actuals: pd.DataFrame,
    costs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """SCORE_COLUMNS, one row per store, product and day with an override in force and a known demand.

    overrides: OVERRIDE_COLUMNS rows (several per key: the latest wins). plan: gold.bake_plan rows (store_id,
    product_id, date, quantity, cu, co); a day without a plan row scores against the override's recorded
    plan_quantity. costs: product_id, cu, co for plan rows written before plans carried their costs.
    actuals: store_id, product_id, date, sold, stockout, yhat (the champion's D+1 forecast). Demand is the
    day's sales, or on a stock-out day the ledger's censored-demand estimate; a stock-out day without a
    forecast has no known demand and is not scored.
    """
    if overrides.empty or actuals.empty:
        return pd.DataFrame(columns=SCORE_COLUMNS)
    out = latest(overrides).drop(columns=[c for c in ("cu", "co") if c in overrides.columns])
    plan_part = plan[[*KEYS, "quantity", *[c for c in ("cu", "co") if c in plan.columns]]]
    out = out.merge(plan_part.rename(columns={"quantity": "plan_row_quantity"}), on=KEYS, how="left")
    for c in ("cu", "co"):
        if c not in out.columns:
            out[c] = np.nan
    if costs is not None and len(costs):
        fallback = out[["product_id"]].merge(costs[["product_id", "cu", "co"]], on="product_id", how="left")
        for c in ("cu", "co"):
            out[c] = out[c].fillna(pd.Series(fallback[c].to_numpy(), index=out.index))
    out["plan_quantity"] = out["plan_row_quantity"].fillna(out["plan_quantity"]).astype(float)
    out = out.merge(actuals[[*KEYS, "sold", "stockout", "yhat"]], on=KEYS, how="inner")
    stockout = out["stockout"].fillna(False).astype(bool)
    out["demand"] = censored_demand(out["sold"], stockout, out["yhat"])
    out["demand_censored"] = stockout
    out = out[out["demand"].notna() & out["cu"].notna() & out["co"].notna()].copy()
    if out.empty:
        return pd.DataFrame(columns=SCORE_COLUMNS)
    q, d = out["quantity"].astype(float), out["demand"].astype(float)
    plan_short, plan_over = money_cost(d, out["plan_quantity"], out["cu"], out["co"])
    over_short, over_over = money_cost(d, q, out["cu"], out["co"])
    out["plan_cost"] = plan_short + plan_over
    out["override_cost"] = over_short + over_over
    out["fva_eur"] = out["plan_cost"] - out["override_cost"]
    out["fva_units"] = (out["plan_quantity"] - d).abs() - (q - d).abs()
    return out[SCORE_COLUMNS].sort_values(KEYS).reset_index(drop=True)


def fva_summary(scores: pd.DataFrame, by: str = "username") -> pd.DataFrame:
    """Forecast value added per manager (by='username') or per reason (by='reason_code'): overrides, how many
    helped (FVA in euros > 0), FVA in units and in euros (totals), and plan and override cost in euros; the
    groups that helped most first."""
    if by not in ("username", "reason_code"):
        raise ValueError(f"fva_summary by={by!r}: expected 'username' or 'reason_code'")
    columns = [by, "overrides", "helped", "fva_units", "fva_eur", "plan_cost", "override_cost"]
    if scores.empty:
        return pd.DataFrame(columns=columns)
    grouped = scores.assign(helped=scores["fva_eur"] > 0).groupby(by, as_index=False)
    out = grouped.agg(
        overrides=("override_id", "count"),
        helped=("helped", "sum"),
        fva_units=("fva_units", "sum"),
        fva_eur=("fva_eur", "sum"),
        plan_cost=("plan_cost", "sum"),
        override_cost=("override_cost", "sum"),
    )
    out["helped"] = out["helped"].astype(int)
    return out[columns].sort_values(["fva_eur", by], ascending=[False, True]).reset_index(drop=True)
