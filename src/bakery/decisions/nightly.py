"""The nightly bake-plan step: reads the night's champion forecasts, recent forecast errors, prices and stock,
makes tomorrow's plan (bakery.decisions.plan) and upserts it into gold.bake_plan."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd
from pyspark.sql import functions as F

from bakery.config import Settings
from bakery.decisions.costs import CostModel, load_cost_model, product_costs
from bakery.decisions.io import read_ingredient_prices, read_product_prices
from bakery.decisions.ledger import make_ledger
from bakery.decisions.plan import make_plan
from bakery.lakehouse import Lakehouse
from bakery.models.config import load_model_config
from bakery.models.quantiles import quantile_offsets
from bakery.tables import BAKE_PLAN, DAILY_SALES, FORECASTS, INVENTORY_DAILY, LEDGER

log = logging.getLogger(__name__)
CHAMPION_ROLE = "champion"
FORECAST_COLUMNS = ["store_id", "product_id", "date", "as_of", "horizon", "yhat", "yhat_lower", "yhat_upper"]


@dataclass
class BakePlanResult:
    date: date
    rows: int = 0
    degraded: int = 0
    default_costs: int = 0
    quantile_rows: int = 0
    ledger_rows: int = 0
    seconds: float = 0.0

    def summary_lines(self) -> list[str]:
        return [
            f"bake plan for {self.date}: {self.rows} store x product rows, {self.degraded} degraded, "
            f"{self.default_costs} on category default costs, quantiles from {self.quantile_rows} recent errors; "
            f"ledger: {self.ledger_rows} rows"
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "rows": self.rows,
            "degraded": self.degraded,
            "default_costs": self.default_costs,
            "quantile_rows": self.quantile_rows,
            "ledger_rows": self.ledger_rows,
            "seconds": round(self.seconds, 2),
        }


def _forecasts(lh: Lakehouse, day: date, as_of: date) -> pd.DataFrame:
    """The champion's forecast of `day` from the latest as_of <= as_of that has one, per series."""
    sdf = lh.read(*FORECASTS).where(
        (F.col("role") == CHAMPION_ROLE) & (F.col("date") == F.lit(day)) & (F.col("as_of") <= F.lit(as_of))
    )
    pdf = sdf.select(*FORECAST_COLUMNS, "model_version").toPandas()
    if pdf.empty:
        return pdf
    return pdf.sort_values("as_of").drop_duplicates(["store_id", "product_id"], keep="last")


def _recent_errors(lh: Lakehouse, as_of: date, horizon: int, window_days: int) -> pd.DataFrame:
    """The champion's served D+horizon forecasts of the last window_days with their actuals (censored marked)."""
    start = as_of - timedelta(days=window_days)
    fc = lh.read(*FORECASTS).where(
        (F.col("role") == CHAMPION_ROLE)
        & (F.col("horizon") == horizon)
        & (F.col("date") > F.lit(start))
        & (F.col("date") <= F.lit(as_of))
    )
    sales = (
        lh.read(*DAILY_SALES)
        .where(F.col("quantity_sold").isNotNull())
        .select(
            "store_id",
            "product_id",
            "date",
            F.col("quantity_sold").alias("y"),
            F.col("stockout").alias("censored"),
        )
    )
    joined = fc.join(sales, ["store_id", "product_id", "date"]).select(
        "horizon", "yhat", "yhat_lower", "yhat_upper", "y", "censored"
    )
    return joined.toPandas()


def _stock(lh: Lakehouse, as_of: date) -> pd.DataFrame:
    if not lh.exists(*INVENTORY_DAILY):
        return pd.DataFrame(columns=["store_id", "product_id", "closing_stock"])
    sdf = lh.read(*INVENTORY_DAILY).where(F.col("date") == F.lit(as_of))
    return sdf.select("store_id", "product_id", "closing_stock").toPandas()


LEDGER_DAYS = 7  # the nightly ledger rewrites the last week: late files change its days


def costs_of(lh: Lakehouse, product_ids, cost_model: CostModel) -> pd.DataFrame:
    """The costs (bakery.decisions.costs.product_costs) of these products; one silver.products lacks takes its
    category's defaults (the `default` category when it has none)."""
    catalogue = read_product_prices(lh).drop_duplicates("product_id")
    wanted = pd.DataFrame({"product_id": sorted(set(product_ids))})
    return product_costs(
        wanted.merge(catalogue, on="product_id", how="left"), cost_model, read_ingredient_prices(lh)
    )


def write_ledger(lh: Lakehouse, last: date, days: int, cost_model: CostModel) -> int:
    """gold.ledger for the `days` days up to last, upserted on (store, product, date); 0 without inventory."""
    if not lh.exists(*INVENTORY_DAILY):
        return 0
    first = last - timedelta(days=days - 1)
    window = (F.col("date") >= F.lit(first)) & (F.col("date") <= F.lit(last))
    inventory = (
        lh.read(*INVENTORY_DAILY)
        .where(window)
        .select(
            "store_id",
            "product_id",
            "date",
            "opening_stock",
            "delivered",
            "sold",
            "closing_stock",
            "correction",
            "stockout",
        )
        .toPandas()
    )
    forecasts = (
        lh.read(*FORECASTS)
        .where(window & (F.col("role") == CHAMPION_ROLE) & (F.col("horizon") == 1))
        .select("store_id", "product_id", "date", "yhat")
        .toPandas()
    )
    ledger = make_ledger(inventory, forecasts, costs_of(lh, inventory["product_id"], cost_model))
    if ledger.empty:
        return 0
    sdf = lh.spark.createDataFrame(ledger[LEDGER.columns], LEDGER.schema)
    lh.merge(sdf, *LEDGER, keys=list(LEDGER.keys))
    return len(ledger)


def run_bake_plan(lh: Lakehouse, settings: Settings, as_of: date) -> BakePlanResult:
    """Plan as_of + horizon (conf/bake_plan.yml) from the champion's forecasts; an older forecast of that day is
    used when the night's is missing, and every row then says so."""
    t0 = time.perf_counter()
    cost_model = load_cost_model(settings.conf_dir)
    cfg = load_model_config(settings.conf_dir)
    day = as_of + timedelta(days=cost_model.horizon)
    result = BakePlanResult(date=day)
    if not lh.exists(*FORECASTS):
        raise ValueError("no gold.forecasts yet: run `bakery forecast` (or `bakery pipeline`) first")
    forecasts = _forecasts(lh, day, as_of)
    if forecasts.empty:
        raise ValueError(f"no champion forecast of {day} made on or before {as_of}")
    forecasts["as_of"] = pd.to_datetime(forecasts["as_of"]).dt.date
    window = int(cfg.interval_calibration.get("window_days", 56))
    errors = _recent_errors(lh, as_of, cost_model.horizon, window)
    offsets = quantile_offsets(errors, "yhat", cfg)
    result.quantile_rows = int(offsets.loc[offsets["horizon"] == cost_model.horizon, "n"].max())
    catalogue = (
        forecasts[["product_id"]]
        .drop_duplicates()
        .merge(read_product_prices(lh).drop_duplicates("product_id"), on="product_id", how="left")
    )
    costs = product_costs(catalogue, cost_model, read_ingredient_prices(lh))
    degraded = None
    oldest = min(forecasts["as_of"])
    if oldest < as_of:
        degraded = f"previsión del {oldest}: la de {as_of} no está disponible"
    stale = forecasts["as_of"] < as_of
    plan_fresh = make_plan(forecasts[~stale], costs, _stock(lh, as_of), catalogue, cfg, offsets)
    plan_stale = make_plan(forecasts[stale], costs, _stock(lh, as_of), catalogue, cfg, offsets, degraded)
    plan = pd.concat([p for p in (plan_fresh, plan_stale) if len(p)], ignore_index=True)
    plan["date"] = day
    plan["batches"] = plan["batches"].astype("int64")
    sdf = lh.spark.createDataFrame(plan[BAKE_PLAN.columns], BAKE_PLAN.schema)
    lh.merge(sdf, *BAKE_PLAN, keys=list(BAKE_PLAN.keys))
    result.ledger_rows = write_ledger(lh, as_of, LEDGER_DAYS, cost_model)
    result.rows, result.degraded = len(plan), int(plan["degraded"].sum())
    result.default_costs = int((plan["cost_source"] == "default").sum())
    result.seconds = time.perf_counter() - t0
    log.info("%s", result.summary_lines()[0])
    return result


def plan_night(lh: Lakehouse, settings: Settings, as_of: date) -> str:
    """The nightly step: run_bake_plan recorded in ops.runs as `bake_plan`; returns the line for the night's report.
    A failure is logged and reported without raising: the forecasts stand, and the app shows the last plan with its
    date."""
    from bakery.ops.runs import track_run

    try:
        with track_run(lh, "bake_plan") as rec:
            result = run_bake_plan(lh, settings, as_of)
            rec.details = result.to_dict()
        return result.summary_lines()[0]
    except Exception as exc:  # noqa: BLE001 - a plan error must not cost the night its forecasts
        log.exception("bake plan failed")
        return f"bake plan FAILED: {type(exc).__name__}: {exc}"[:500]
