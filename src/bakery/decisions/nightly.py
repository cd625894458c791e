"""The nightly bake-plan step: reads the night's champion forecasts, recent forecast errors, prices and stock,
makes tomorrow's plan (bakery.decisions.plan) and upserts it into gold.bake_plan; then rewrites the ledger, takes
in the managers' overrides the app landed and scores those whose day has sales (bakery.decisions.overrides)."""

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
from bakery.decisions.io import read_ingredient_prices, read_override_files, read_product_prices
from bakery.decisions.ledger import make_ledger
from bakery.decisions.overrides import OVERRIDE_COLUMNS, OVERRIDES_KIND, score_overrides
from bakery.decisions.plan import make_plan
from bakery.lakehouse import Lakehouse
from bakery.models.config import load_model_config
from bakery.models.quantiles import quantile_offsets
from bakery.tables import (
    BAKE_OVERRIDES,
    BAKE_PLAN,
    DAILY_SALES,
    FORECASTS,
    INVENTORY_DAILY,
    LEDGER,
    OVERRIDE_SCORES,
)

log = logging.getLogger(__name__)
CHAMPION_ROLE = "champion"
# The gold.forecasts columns a bake plan is made from (models.output names the model rows' columns).
PLAN_INPUT_COLUMNS = [
    "store_id",
    "product_id",
    "date",
    "as_of",
    "horizon",
    "yhat",
    "yhat_lower",
    "yhat_upper",
]


@dataclass
class BakePlanResult:
    date: date
    rows: int = 0
    degraded: int = 0
    default_costs: int = 0
    quantile_rows: int = 0
    ledger_rows: int = 0
    overrides_landed: int = 0
    overrides_scored: int = 0
    seconds: float = 0.0

    def summary_lines(self) -> list[str]:
        return [
            f"bake plan for {self.date}: {self.rows} store x product rows, {self.degraded} degraded, "
            f"{self.default_costs} on category default costs, quantiles from {self.quantile_rows} recent errors; "
            f"ledger: {self.ledger_rows} rows; overrides: {self.overrides_landed} new, "
            f"{self.overrides_scored} scored"
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "rows": self.rows,
            "degraded": self.degraded,
            "default_costs": self.default_costs,
            "quantile_rows": self.quantile_rows,
            "ledger_rows": self.ledger_rows,
            "overrides_landed": self.overrides_landed,
            "overrides_scored": self.overrides_scored,
            "seconds": round(self.seconds, 2),
        }


def _forecasts(lh: Lakehouse, day: date, as_of: date) -> pd.DataFrame:
    """The champion's forecast of `day` from the latest as_of <= as_of that has one, per series."""
    sdf = lh.read(*FORECASTS).where(
        (F.col("role") == CHAMPION_ROLE) & (F.col("date") == F.lit(day)) & (F.col("as_of") <= F.lit(as_of))
    )
    pdf = sdf.select(*PLAN_INPUT_COLUMNS, "model_version").toPandas()
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


def land_overrides(lh: Lakehouse, settings: Settings) -> int:
    """Take the overrides the app landed (landing/overrides/*.csv) into silver.bake_overrides by override_id:
    an override already there is never rewritten, so a rerun commits nothing. Returns the new overrides."""
    rows = read_override_files(settings.landing_dir / OVERRIDES_KIND, settings.landing_dir)
    if rows.empty:
        return 0
    rows = rows.drop_duplicates("override_id")
    if lh.exists(*BAKE_OVERRIDES):
        known = set(lh.read(*BAKE_OVERRIDES).select("override_id").toPandas()["override_id"])
        rows = rows[~rows["override_id"].isin(known)]
    if rows.empty:
        return 0
    sdf = lh.spark.createDataFrame(rows[BAKE_OVERRIDES.columns], BAKE_OVERRIDES.schema)
    lh.merge(sdf, *BAKE_OVERRIDES, keys=list(BAKE_OVERRIDES.keys), update=False)
    return len(rows)


def _override_actuals(lh: Lakehouse, days: list[date]) -> pd.DataFrame:
    """The sales, stock-out flag and the champion's D+1 forecast of these days, per store and product."""
    keys = ["store_id", "product_id", "date"]
    sales = (
        lh.read(*DAILY_SALES)
        .where(F.col("date").isin(days) & F.col("quantity_sold").isNotNull())
        .select(*keys, F.col("quantity_sold").alias("sold"), "stockout")
    )
    if not lh.exists(*FORECASTS):  # sales without forecasts: a stock-out day's demand stays unknown
        return sales.withColumn("yhat", F.lit(None).cast("double")).toPandas()
    forecasts = (
        lh.read(*FORECASTS)
        .where(F.col("date").isin(days) & (F.col("role") == CHAMPION_ROLE) & (F.col("horizon") == 1))
        .groupBy(*keys)
        .agg(F.max("yhat").alias("yhat"))
    )
    return sales.join(forecasts, keys, "left").toPandas()


def write_override_scores(lh: Lakehouse, as_of: date, cost_model: CostModel) -> int:
    """gold.override_scores for every override in force on a day up to as_of that has sales, upserted on
    (store, product, date): late sales rescore a day, and a rerun writes the same rows. Returns the rows."""
    if not (lh.exists(*BAKE_OVERRIDES) and lh.exists(*DAILY_SALES)):
        return 0
    overrides = (
        lh.read(*BAKE_OVERRIDES).where(F.col("date") <= F.lit(as_of)).select(*OVERRIDE_COLUMNS).toPandas()
    )
    if overrides.empty:
        return 0
    days = sorted(set(overrides["date"]))
    plan = pd.DataFrame(columns=["store_id", "product_id", "date", "quantity"])
    if lh.exists(*BAKE_PLAN):
        sdf = lh.read(*BAKE_PLAN).where(F.col("date").isin(days))
        wanted = ["store_id", "product_id", "date", "quantity", "cu", "co"]
        plan = sdf.select(*[c for c in wanted if c in sdf.columns]).toPandas()
    actuals = _override_actuals(lh, days)
    scores = score_overrides(overrides, plan, actuals, costs_of(lh, overrides["product_id"], cost_model))
    if scores.empty:
        return 0
    sdf = lh.spark.createDataFrame(scores[OVERRIDE_SCORES.columns], OVERRIDE_SCORES.schema)
    changed = " OR ".join(
        f"NOT (t.`{c}` <=> s.`{c}`)" for c in OVERRIDE_SCORES.columns if c not in OVERRIDE_SCORES.keys
    )
    lh.merge(sdf, *OVERRIDE_SCORES, keys=list(OVERRIDE_SCORES.keys), condition=changed)
    return len(scores)


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
    lh.add_missing_columns(*BAKE_PLAN, sdf.schema)  # plans written before they carried cu and co
    lh.merge(sdf, *BAKE_PLAN, keys=list(BAKE_PLAN.keys))
    result.ledger_rows = write_ledger(lh, as_of, LEDGER_DAYS, cost_model)
    result.overrides_landed = land_overrides(lh, settings)
    result.overrides_scored = write_override_scores(lh, as_of, cost_model)
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
