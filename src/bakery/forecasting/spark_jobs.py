"""The per-series model functions run in parallel inside Spark: groupBy(store).applyInPandas.

Each wrapper only moves rows: the work is the pure-pandas function in bakery.models, which unit tests
call directly. Output date columns are converted to datetime.date for Arrow's date32."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from bakery.models.backtest import BACKTEST_COLUMNS, BACKTEST_SCHEMA, backtest_series
from bakery.models.config import ModelConfig
from bakery.models.frames import model_columns, model_frame
from bakery.models.output import FORECAST_COLUMNS, FORECAST_SCHEMA
from bakery.models.prophet_model import MODEL_SCHEMA, train_series
from bakery.models.serve import forecast_group
from bakery.models.tuning import TUNING_COLUMNS, TUNING_SCHEMA, tune_group

log = logging.getLogger(__name__)

MODEL_COLUMNS = [f.split()[0] for f in MODEL_SCHEMA.split(", ")]
STORED_MODEL_SCHEMA = "unique_id string, store_id string, model_json string, fallback_reason string"


def model_input(features: DataFrame, cfg: ModelConfig, until: date | None = None) -> DataFrame:
    """gold.features projected to the model columns (and rows up to `until`), with unique_id."""
    df = features.select(*model_columns(features.columns, cfg))
    if "unique_id" not in df.columns:
        df = df.withColumn("unique_id", F.concat_ws("/", "store_id", "product_id"))
    if until is not None:
        df = df.where(F.col("date") <= F.lit(until))
    return df


TASKS_PER_CORE = (
    2  # few tasks: each costs ~0.3 s of Spark and Python worker set-up; 2 per core evens out the ends
)


def _cores(spark: SparkSession) -> int:
    try:
        return int(spark.sparkContext.defaultParallelism)
    except Exception:  # Spark Connect has no SparkContext: the shuffle width is the next best guess
        return int(spark.conf.get("spark.sql.shuffle.partitions", "8"))


def spread(df: DataFrame, key: str = "store_id", tasks_per_core: int = TASKS_PER_CORE) -> DataFrame:
    """df range-partitioned on key into at most `tasks_per_core` tasks per core (and at most one per key
    value), so that groupBy(key).applyInPandas runs the groups in parallel in a few large tasks. Without it,
    adaptive execution coalesces the small shuffle of a few stores' rows into a single task, and every store
    trains on one core; with a task per store, the per-task set-up costs as much as a fit. The range bounds
    come from sampled rows, so the tasks get similar numbers of rows."""
    n = df.select(key).distinct().count()
    return df.repartitionByRange(max(1, min(n, _cores(df.sparkSession) * tasks_per_core)), key)


def _quiet() -> None:
    """Per-fit chatter off in the Python workers (cmdstanpy logs every fit at INFO)."""
    logging.getLogger("cmdstanpy").disabled = True
    for name in ("prophet", "hyperopt", "py4j"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _dated(pdf: pd.DataFrame, columns: list[str], date_cols: tuple[str, ...]) -> pd.DataFrame:
    out = pdf[columns].copy()
    for col in date_cols:
        out[col] = pd.to_datetime(out[col]).dt.date
    return out


def _per_series(fn: Callable[[pd.DataFrame], pd.DataFrame], columns: list[str], date_cols: tuple[str, ...]):
    """A store's rows -> fn per series -> one frame (the per-store applyInPandas function)."""

    def run(pdf: pd.DataFrame) -> pd.DataFrame:
        _quiet()
        parts = [fn(rows) for _, rows in pdf.groupby("unique_id", sort=True)]
        parts = [p for p in parts if len(p)]
        if not parts:
            return pd.DataFrame(columns=columns)
        return _dated(pd.concat(parts, ignore_index=True), columns, date_cols)

    return run


def train(features: DataFrame, cfg: ModelConfig, as_of: date) -> pd.DataFrame:
    """Every series' final fit at as_of (MODEL_SCHEMA rows), grouped per store."""
    fn = _per_series(lambda rows: train_series(model_frame(rows, cfg), cfg, as_of), MODEL_COLUMNS, ("as_of",))
    return spread(features).groupBy("store_id").applyInPandas(fn, MODEL_SCHEMA).toPandas()


def backtest(
    features: DataFrame, cfg: ModelConfig, cutoffs: list, horizons: list[int], models: list[str]
) -> pd.DataFrame:
    """Long backtest rows (BACKTEST_SCHEMA: one per series, cutoff, target day and per-series model) for every
    series at the cutoffs, grouped per store."""
    fn = _per_series(
        lambda rows: backtest_series(model_frame(rows, cfg), cfg, cutoffs, horizons, models),
        BACKTEST_COLUMNS,
        ("cutoff", "ds"),
    )
    rows = spread(features).groupBy("store_id").applyInPandas(fn, BACKTEST_SCHEMA).toPandas()
    for col in ("cutoff", "ds"):
        rows[col] = pd.to_datetime(rows[col])
    return rows


def tune(features: DataFrame, cfg: ModelConfig, eval_start: date) -> pd.DataFrame:
    """Hyperopt per tuning group (conf tuning.group_by), seeded Trials inside each group's task."""
    key = cfg.tuning.get("group_by", "unique_id")

    def run(pdf: pd.DataFrame) -> pd.DataFrame:
        _quiet()
        return tune_group(model_frame(pdf, cfg), cfg, eval_start)[TUNING_COLUMNS]

    return spread(features, key).groupBy(key).applyInPandas(run, TUNING_SCHEMA).toPandas()


def forecast(
    spark: SparkSession, features: DataFrame, stored: pd.DataFrame, cfg: ModelConfig, as_of: date
) -> pd.DataFrame:
    """Per-series candidate forecasts (prophet or fallback, seasonal naive) for every series, each
    store's rows cogrouped with its stored fits."""
    models = (
        spark.createDataFrame(
            stored[["unique_id", "store_id", "model_json", "fallback_reason"]], STORED_MODEL_SCHEMA
        )
        if len(stored)
        else spark.createDataFrame([], STORED_MODEL_SCHEMA)
    )

    def run(pdf: pd.DataFrame, fits: pd.DataFrame) -> pd.DataFrame:
        _quiet()
        if pdf.empty:
            return pd.DataFrame(columns=FORECAST_COLUMNS)
        out = forecast_group(model_frame(pdf, cfg), fits, cfg, as_of)
        return _dated(out, FORECAST_COLUMNS, ("as_of", "ds"))

    # Both sides hash-partitioned alike (range bounds would differ per side and force a coalesced reshuffle).
    stores = len(stored["store_id"].unique()) if len(stored) else 0
    n = max(1, min(stores, _cores(spark) * TASKS_PER_CORE))
    rows = (
        features.repartition(n, "store_id")
        .groupBy("store_id")
        .cogroup(models.repartition(n, "store_id").groupBy("store_id"))
        .applyInPandas(run, FORECAST_SCHEMA)
        .toPandas()
    )
    for col in ("as_of", "ds"):
        rows[col] = pd.to_datetime(rows[col])
    return rows
