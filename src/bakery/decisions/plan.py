"""Tomorrow's bake plan per store and product, from the served forecast's demand quantiles and the cost model.

quantity = the demand quantile at the product's critical ratio, at least the display minimum, minus the sellable
stock carried over from today, never below 0, rounded up to whole batches. The forecast, the quantile behind the
quantity, the carried stock, where the costs came from and why the plan may be degraded stay on each row, so a
manager sees why the quantity differs from the forecast.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from bakery.decisions.policies import round_to_batches
from bakery.models.config import ModelConfig
from bakery.models.quantiles import apply_offsets, column, levels, quantile_at

PLAN_COLUMNS = [
    "store_id",
    "product_id",
    "date",
    "as_of",
    "quantity",
    "forecast",
    "quantile",
    "quantile_level",
    "quantiles",
    "batches",
    "batch_size",
    "carried_over",
    "display_min",
    "unit_price",
    "unit_cost",
    "cost_source",
    "model_version",
    "degraded",
    "degraded_reason",
    "reason",
    "cu",
    "co",
]


def carried_over(forecasts: pd.DataFrame, stock: pd.DataFrame, products: pd.DataFrame) -> pd.Series:
    """Per forecast row: the stock left at the close of the day before its date that can still be sold on it (a
    product that keeps shelf_life_days > 1 days carries its closing stock; a one-day product carries nothing).
    A product without a stock record at a store that has records that day had no stock (it was off sale); NaN
    where the store has no stock record at all that day: the carry-over is unknown."""
    keys = ["store_id", "product_id"]
    life = forecasts["product_id"].map(products.set_index("product_id")["shelf_life_days"]).astype(float)
    closing = forecasts[keys].merge(
        stock[[*keys, "closing_stock"]].drop_duplicates(keys), on=keys, how="left"
    )
    closing = pd.Series(closing["closing_stock"].to_numpy(dtype=float), index=forecasts.index)
    counted = forecasts["store_id"].isin(set(stock["store_id"]))
    closing = closing.where(closing.notna() | ~counted, 0.0)
    return pd.Series(np.where(life.fillna(1) > 1, closing, 0.0), index=forecasts.index)


def _reason(row) -> str:
    """Why the quantity differs from the forecast, in plain Spanish for the manager."""
    parts = []
    diff = round(row.quantile - row.forecast)
    if diff > 0:
        parts.append(
            f"+{diff} sobre la previsión: quedarse sin existencias cuesta más que una unidad sobrante"
        )
    elif diff < 0:
        parts.append(f"{diff} bajo la previsión: una unidad sobrante cuesta más que una venta perdida")
    else:
        parts.append("igual a la previsión")
    if row.carried_over > 0:
        parts.append(f"-{row.carried_over:g} que quedan de ayer")
    if row.display_min > row.quantile:
        parts.append(f"mínimo de exposición {row.display_min:g}")
    if row.batch_size > 1:
        parts.append(f"redondeado a {int(row.batches)} bandejas de {row.batch_size:g}")
    return "; ".join(parts)


def make_plan(
    forecasts: pd.DataFrame,
    costs: pd.DataFrame,
    stock: pd.DataFrame,
    products: pd.DataFrame,
    cfg: ModelConfig,
    offsets: pd.DataFrame | None = None,
    degraded: str | None = None,
) -> pd.DataFrame:
    """PLAN_COLUMNS rows, one per forecast row (store_id, product_id, date, as_of, horizon, yhat, yhat_lower,
    yhat_upper, model_version). Each row keeps its product's cu and co, so what it cost can be scored later. costs come from bakery.decisions.costs.product_costs, stock holds the closing
    stock of the day before (store_id, product_id, closing_stock), offsets the quantile shape
    (bakery.models.quantiles; None = the normal shape). degraded, when given, marks every row with that reason;
    a row whose carry-over is unknown is marked too."""
    if forecasts.empty:
        return pd.DataFrame(columns=PLAN_COLUMNS)
    rows = apply_offsets(forecasts.reset_index(drop=True), offsets, cfg, "yhat", "yhat_lower", "yhat_upper")
    rows = rows.merge(costs, on="product_id", how="left")
    missing = rows["critical_ratio"].isna()
    if missing.any():
        raise ValueError(f"no cost for product(s) {sorted(rows.loc[missing, 'product_id'].unique())}")
    ratio = rows["critical_ratio"].to_numpy(dtype=float)
    quantile = np.empty(len(rows))
    for r in np.unique(ratio):
        quantile[ratio == r] = quantile_at(rows[ratio == r], float(r), cfg)
    carried = carried_over(rows, stock, products)
    unknown = carried.isna()
    carried = carried.fillna(0.0).to_numpy(dtype=float)
    need = np.maximum(np.maximum(quantile, rows["display_min"].to_numpy(dtype=float)) - carried, 0.0)
    batch = rows["batch_size"].to_numpy(dtype=float)
    quantity = round_to_batches(need, batch)
    lv = levels(cfg)
    out = rows.assign(
        quantity=quantity,
        forecast=rows["yhat"],
        quantile=quantile,
        quantile_level=ratio,
        quantiles=[
            json.dumps({f"{x:g}": round(float(v), 3) for x, v in zip(lv, vals, strict=True)})
            for vals in rows[[column(x) for x in lv]].to_numpy()
        ],
        batches=(quantity / batch).round().astype("int64"),
        carried_over=carried,
    )
    reasons = np.where(unknown, "sin inventario de ayer: no se descuentan existencias", None)
    if degraded:
        reasons = np.array([degraded if r is None else f"{degraded}; {r}" for r in reasons], dtype=object)
    out["degraded_reason"] = reasons
    out["degraded"] = out["degraded_reason"].notna()
    out["reason"] = [_reason(r) for r in out.itertuples(index=False)]
    return out[PLAN_COLUMNS]
