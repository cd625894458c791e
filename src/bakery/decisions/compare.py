"""What the plan's policy would have cost against what the store actually did, on the same days and demand.

For a (store, product, day) with both a gold.bake_plan row and gold.ledger actuals, demand is what was sold plus
the sales lost to a stock-out (the ledger's estimate); a stock-out day without that estimate has no known demand
and is left out. Units on the shelf are the quantity baked plus the stock carried over (the ledger's, the same
for both): the plan's quantity replaces what was baked. Each side then costs, newsvendor-wise,
cu * (demand - on shelf)+ (the lost margin and goodwill of the units short) plus co * (on shelf - demand)+ (the
cost of the units left over, net of salvage), with cu = price - cost + goodwill and co = cost - salvage taken
from the plan row: its unit price and unit cost, and its salvage value and goodwill cost where the frame carries
them (0 otherwise: the comparison is then at margin and baking cost alone).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bakery.decisions.costs import money_cost

KEYS = ["store_id", "product_id", "date"]
COMPARE_COLUMNS = [
    *KEYS,
    "demand",
    "planned",
    "baked",
    "carried_over",
    "cu",
    "co",
    "plan_waste_eur",
    "plan_lost_eur",
    "plan_cost_eur",
    "actual_waste_eur",
    "actual_lost_eur",
    "actual_cost_eur",
]
_PLAN_NEEDS = (*KEYS, "quantity", "unit_price", "unit_cost")
_LEDGER_NEEDS = (*KEYS, "baked", "carried_over", "sold", "lost_sales")


def _check(frame: pd.DataFrame, needs: tuple[str, ...], name: str) -> None:
    missing = [c for c in needs if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}")


def plan_vs_actual(plan: pd.DataFrame, ledger: pd.DataFrame) -> pd.DataFrame:
    """COMPARE_COLUMNS, one row per (store, product, day) present in both frames with a known demand.

    plan: gold.bake_plan rows (store_id, product_id, date, quantity, unit_price, unit_cost[, salvage_value,
    goodwill_cost]); ledger: gold.ledger rows (store_id, product_id, date, baked, carried_over, sold,
    lost_sales)."""
    _check(plan, _PLAN_NEEDS, "bake plan")
    _check(ledger, _LEDGER_NEEDS, "ledger")
    if plan.empty or ledger.empty:
        return pd.DataFrame(columns=COMPARE_COLUMNS)
    p = plan.assign(date=pd.to_datetime(plan["date"]).dt.date).drop_duplicates(KEYS)
    led = ledger.assign(date=pd.to_datetime(ledger["date"]).dt.date).drop_duplicates(KEYS)
    extra = [c for c in ("salvage_value", "goodwill_cost") if c in p.columns]
    out = p[[*KEYS, "quantity", "unit_price", "unit_cost", *extra]].merge(
        led[list(_LEDGER_NEEDS)], on=KEYS, how="inner"
    )
    out["demand"] = out["sold"].astype(float) + out["lost_sales"].astype(float)
    out = out[out["demand"].notna() & out["baked"].notna()].reset_index(drop=True)
    salvage = out["salvage_value"].fillna(0.0) if "salvage_value" in out else 0.0
    goodwill = out["goodwill_cost"].fillna(0.0) if "goodwill_cost" in out else 0.0
    price, cost = out["unit_price"].astype(float), out["unit_cost"].astype(float)
    out["cu"] = np.maximum(price - cost, 0.0) + goodwill
    out["co"] = cost - salvage
    carried = out["carried_over"].fillna(0.0).astype(float)
    out["planned"] = out["quantity"].astype(float)
    for side, made in (("plan", out["planned"]), ("actual", out["baked"].astype(float))):
        lost, waste = money_cost(out["demand"], made + carried, out["cu"], out["co"])
        out[f"{side}_lost_eur"], out[f"{side}_waste_eur"] = lost, waste
        out[f"{side}_cost_eur"] = lost + waste
    out["carried_over"] = carried
    return out[COMPARE_COLUMNS]


def compare_totals(rows: pd.DataFrame) -> dict[str, float]:
    """The euro totals of plan_vs_actual rows and how many (store, product, day) they cover."""
    sums = {c: float(rows[c].sum()) for c in COMPARE_COLUMNS if c.endswith("_eur")}
    return {**sums, "n": int(len(rows)), "saving_eur": sums["actual_cost_eur"] - sums["plan_cost_eur"]}
