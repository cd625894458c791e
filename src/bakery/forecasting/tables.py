"""Delta IO of the forecasting steps: gold.features in; tuned parameters, forecasts, backtest rows and
metrics out. Transforms live in bakery.models; this module only reads and writes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from pyspark.sql import functions as F

from bakery.lakehouse import Lakehouse
from bakery.models import metrics
from bakery.models.backtest import to_long
from bakery.models.serve import GOLD_COLUMNS, GOLD_SCHEMA

FEATURES = ("gold", "features")
PRODUCTS = ("silver", "products")
FORECASTS = ("gold", "forecasts")
STORE_FORECASTS = ("gold", "store_forecasts")
BACKTEST_METRICS = ("gold", "backtest_metrics")
BACKTEST_RESULTS = ("gold", "backtest_results")
TUNED = ("ops", "tuned_params")

FORECAST_KEYS = ["as_of", "store_id", "product_id", "date", "role"]
METRICS_SCHEMA = (
    "evaluated_at timestamp, source string, run_id string, model string, horizon int, store_id string, "
    "wmape double, mae double, rmse double, mape double, bias double, n long"
)
TUNED_SCHEMA = (
    "tuned_at timestamp, as_of date, unique_id string, params string, loss double, default_loss double, "
    "n_evals int, n_series int, fold_cutoffs string, reason string"
)


def require_features(lh: Lakehouse, first: str) -> None:
    """Raise a ValueError saying what to run when gold.features does not exist yet, and, when ingest did
    run but quarantined rows (e.g. sales for stores never imported), which rules took them."""
    if lh.exists(*FEATURES):
        return
    from bakery.ops.status import quarantine_summary

    message = f"gold.features does not exist yet: run {first} first"
    rejected = quarantine_summary(lh)
    if rejected["total"]:
        top = ", ".join(f"{r['source']} {r['rule']}: {r['rows']}" for r in rejected["by_rule"][:3])
        message += (
            f". ops.quarantine holds {rejected['total']} rejected row(s) ({top}); `bakery status` lists them, "
            "and rows naming unknown stores or products need the stores and products imported first"
        )
    raise ValueError(message)


def latest_data_date(lh: Lakehouse) -> date:
    """The last day with an observed sale in gold.features (the default as-of date)."""
    row = lh.read(*FEATURES).where(F.col("y").isNotNull()).agg(F.max("date")).first()
    if row is None or row[0] is None:
        raise ValueError("gold.features holds no observed sales yet")
    return row[0]


def write_tuning(lh: Lakehouse, tuned: pd.DataFrame, as_of: date) -> None:
    if tuned.empty:
        return
    rows = tuned.assign(tuned_at=datetime.now(UTC), as_of=as_of)
    cols = [f.split()[0] for f in TUNED_SCHEMA.split(", ")]
    lh.append(lh.spark.createDataFrame(rows[cols], TUNED_SCHEMA), *TUNED)


def latest_tuned_params(lh: Lakehouse) -> dict[str, dict[str, Any]]:
    """{unique_id: params} of the latest tuning run (empty before the first one)."""
    if not lh.exists(*TUNED):
        return {}
    df = lh.read(*TUNED)
    last = df.agg(F.max("tuned_at")).first()[0]
    rows = (
        df.where((F.col("tuned_at") == F.lit(last)) & F.col("reason").isNull())
        .select("unique_id", "params")
        .collect()
    )
    return {r["unique_id"]: json.loads(r["params"]) for r in rows}


def write_forecasts(lh: Lakehouse, rows: pd.DataFrame) -> int:
    """Upsert gold.forecasts rows on (as_of, store, product, date, role) in one MERGE commit: readers see
    all of an as-of date's rows or none, and a rerun rewrites the same keys instead of duplicating."""
    if rows.empty:
        return 0
    sdf = lh.spark.createDataFrame(rows[GOLD_COLUMNS], GOLD_SCHEMA)
    changed = " OR ".join(f"NOT (t.`{c}` <=> s.`{c}`)" for c in GOLD_COLUMNS if c not in FORECAST_KEYS)
    lh.merge(sdf, *FORECASTS, keys=FORECAST_KEYS, condition=changed)
    return len(rows)


def write_store_forecasts(lh: Lakehouse, rows: pd.DataFrame) -> None:
    """Store totals per (as_of, store, date, role): the sum of the product forecasts, so they are
    coherent by construction; the interval adds product half-widths in quadrature (independence)."""
    if rows.empty:
        return
    df = rows.assign(lo=(rows["yhat"] - rows["yhat_lower"]) ** 2, hi=(rows["yhat_upper"] - rows["yhat"]) ** 2)
    keys = ["as_of", "store_id", "date", "horizon", "role", "model_version"]
    agg = df.groupby(keys, as_index=False).agg(
        yhat=("yhat", "sum"), lo=("lo", "sum"), hi=("hi", "sum"), products=("product_id", "nunique")
    )
    agg["yhat_lower"] = (agg["yhat"] - agg["lo"] ** 0.5).clip(lower=0)
    agg["yhat_upper"] = agg["yhat"] + agg["hi"] ** 0.5
    schema = (
        "as_of date, store_id string, date date, horizon int, role string, model_version string, "
        "yhat double, yhat_lower double, yhat_upper double, products long"
    )
    cols = [f.split()[0] for f in schema.split(", ")]
    sdf = lh.spark.createDataFrame(agg[cols], schema)
    lh.merge(
        sdf,
        *STORE_FORECASTS,
        keys=["as_of", "store_id", "date", "role"],
        condition=" OR ".join(
            f"NOT (t.`{c}` <=> s.`{c}`)" for c in ("yhat", "yhat_lower", "yhat_upper", "model_version")
        ),
    )


def write_metrics(
    lh: Lakehouse,
    rows: pd.DataFrame,
    models: Sequence[str],
    *,
    source: str,
    run_id: str | None,
    horizons: Sequence[int],
) -> pd.DataFrame:
    """gold.backtest_metrics: per model and horizon, chain-wide (store_id null) and per store."""
    scored = rows[rows["horizon"].isin(list(horizons))]
    chain = metrics.evaluate_frame(scored, list(models)).assign(store_id=None)
    per_store = metrics.evaluate_frame(scored, list(models), by=["store_id"])
    table = pd.concat([chain, per_store], ignore_index=True)
    if table.empty:
        return table
    table = table.assign(evaluated_at=datetime.now(UTC), source=source, run_id=run_id)
    table["horizon"] = table["horizon"].astype("int32")
    table["n"] = table["n"].astype("int64")
    cols = [f.split()[0] for f in METRICS_SCHEMA.split(", ")]
    lh.append(lh.spark.createDataFrame(table[cols], METRICS_SCHEMA), *BACKTEST_METRICS)
    return table[cols]


def read_products(lh: Lakehouse) -> pd.DataFrame:
    """silver.products' product_id, category and launched_on (what cold starts need); empty before any import."""
    if not lh.exists(*PRODUCTS):
        return pd.DataFrame(columns=["product_id", "category", "launched_on"])
    return lh.read(*PRODUCTS).select("product_id", "category", "launched_on").toPandas()


def write_backtest_rows(lh: Lakehouse, rows: pd.DataFrame, models: Sequence[str], run_id: str) -> int:
    """gold.backtest_results: one row per (series, cutoff, target day, model) with actual, forecast and the
    interval where the model has one (the champion's as served)."""
    long = to_long(rows, models)
    long = long.dropna(subset=["yhat"]).rename(columns={"ds": "date"}).assign(run_id=run_id)
    long["cutoff"] = pd.to_datetime(long["cutoff"]).dt.date
    long["date"] = pd.to_datetime(long["date"]).dt.date
    long["horizon"] = long["horizon"].astype("int32")
    schema = (
        "run_id string, unique_id string, store_id string, product_id string, cutoff date, date date, "
        "horizon int, y double, model string, yhat double, yhat_lower double, yhat_upper double"
    )
    cols = [f.split()[0] for f in schema.split(", ")]
    # merge_schema: tables written before the bounds existed gain the two columns (null on their old rows).
    lh.append(lh.spark.createDataFrame(long[cols], schema), *BACKTEST_RESULTS, merge_schema=True)
    return len(long)
