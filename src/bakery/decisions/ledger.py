"""The ledger per store, product and day: baked, sold, wasted and lost sales, in units and euros.

From silver.inventory_daily's stock flows: baked = delivered; carried over = the opening stock; carried forward =
the closing stock; sold = the day's sales; wasted = baked + carried over + correction - sold - carried forward,
which is what a count found missing (expired goods thrown away, shrinkage). `correction` is the stock the inventory
had to add back where sales outran the known stock (a missing delivery or count): it is kept apart so that the
identity holds to the unit. Lost sales are the demand the models estimated for a stock-out day (the champion's D+1
forecast) beyond what was sold; 0 on other days, null on a stock-out day without a forecast.

Euros: sold at the unit price, baked and wasted at the unit cost (net of salvage for waste), lost sales at the
margin plus goodwill (bakery.decisions.costs).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LEDGER_COLUMNS = [
    "store_id",
    "product_id",
    "date",
    "baked",
    "carried_over",
    "sold",
    "carried_forward",
    "correction",
    "wasted",
    "stockout",
    "lost_sales",
    "baked_eur",
    "sold_eur",
    "wasted_eur",
    "lost_sales_eur",
    "cost_source",
]


def lost_sales(sold, stockout, yhat) -> np.ndarray:
    """Per row: the demand a stock-out day censored, estimated by the champion's D+1 forecast beyond the sales;
    0 on other days, NaN on a stock-out day without a forecast (its demand is unknown)."""
    sold, yhat = (np.asarray(a, dtype=float) for a in (sold, yhat))
    stockout = np.asarray(stockout, dtype=bool)
    lost = np.where(stockout, np.maximum(yhat - sold, 0.0), 0.0)
    return np.where(stockout & np.isnan(yhat), np.nan, lost)


def censored_demand(sold, stockout, yhat) -> np.ndarray:
    """Per row: the day's demand, the sales plus the lost sales of a stock-out day (NaN where unknown)."""
    return np.asarray(sold, dtype=float) + lost_sales(sold, stockout, yhat)


def make_ledger(inventory: pd.DataFrame, forecasts: pd.DataFrame, costs: pd.DataFrame) -> pd.DataFrame:
    """LEDGER_COLUMNS rows, one per inventory_daily row (store_id, product_id, date, opening_stock, delivered, sold,
    closing_stock, correction, stockout). forecasts: the champion's D+1 forecasts (store_id, product_id, date,
    yhat); costs: bakery.decisions.costs.product_costs rows."""
    keys = ["store_id", "product_id", "date"]
    if inventory.empty:
        return pd.DataFrame(columns=LEDGER_COLUMNS)
    out = inventory.merge(forecasts[[*keys, "yhat"]].drop_duplicates(keys), on=keys, how="left")
    out = out.merge(
        costs[["product_id", "unit_price", "unit_cost", "salvage_value", "cu", "cost_source"]],
        on="product_id",
        how="left",
    )
    out["baked"] = out["delivered"].astype(float)
    out["carried_over"] = out["opening_stock"].astype(float)
    out["carried_forward"] = out["closing_stock"].astype(float)
    out["wasted"] = (
        out["baked"] + out["carried_over"] + out["correction"] - out["sold"] - out["carried_forward"]
    ).round(6)
    stockout = out["stockout"].fillna(False).astype(bool)
    out["lost_sales"] = lost_sales(out["sold"], stockout, out["yhat"])
    out["stockout"] = stockout
    out["baked_eur"] = out["baked"] * out["unit_cost"]
    out["sold_eur"] = out["sold"] * out["unit_price"]
    out["wasted_eur"] = out["wasted"].clip(lower=0) * (out["unit_cost"] - out["salvage_value"])
    out["lost_sales_eur"] = out["lost_sales"] * out["cu"]
    return out[LEDGER_COLUMNS]
