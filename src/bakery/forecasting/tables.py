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
from bakery.tables import (
    BACKTEST_METRICS,
    BACKTEST_RESULTS,
    FEATURES,
    FORECASTS,
    PRODUCTS,
    STORE_FORECASTS,
    TUNED_PARAMS,
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
    cols = TUNED_PARAMS.columns
    lh.append(lh.spark.createDataFrame(rows[cols], TUNED_PARAMS.schema), *TUNED_PARAMS)


def latest_tuned_params(lh: Lakehouse) -> dict[str, dict[str, Any]]:
    """{unique_id: params} of the latest tuning run (empty before the first one)."""
    if not lh.exists(*TUNED_PARAMS):
        return {}
    df = lh.read(*TUNED_PARAMS)
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
    sdf = lh.spark.createDataFrame(rows[FORECASTS.columns], FORECASTS.schema)
    lh.add_missing_columns(
        *FORECASTS, sdf.schema
    )  # tables written before the reason fields (null on old rows)
    changed = " OR ".join(f"NOT (t.`{c}` <=> s.`{c}`)" for c in FORECASTS.columns if c not in FORECASTS.keys)
    lh.merge(sdf, *FORECASTS, keys=list(FORECASTS.keys), condition=changed)
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
    sdf = lh.spark.createDataFrame(agg[STORE_FORECASTS.columns], STORE_FORECASTS.schema)
    lh.merge(
        sdf,
        *STORE_FORECASTS,
        keys=list(STORE_FORECASTS.keys),
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
    cols = BACKTEST_METRICS.columns
    lh.append(lh.spark.createDataFrame(table[cols], BACKTEST_METRICS.schema), *BACKTEST_METRICS)
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
    cols = BACKTEST_RESULTS.columns
    # merge_schema: tables written before the bounds existed gain the two columns (null on their old rows).
    lh.append(
        lh.spark.createDataFrame(long[cols], BACKTEST_RESULTS.schema), *BACKTEST_RESULTS, merge_schema=True
    )
    return len(long)
