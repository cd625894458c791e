"""Training throughput: Prophet fit + 28-day predict per series, no tuning, on the real chain's 3+ year
daily series. The same per-series function runs (a) in a plain single-process loop and (b) inside Spark,
grouped per store with applyInPandas on local[N]; both over the same series, side by side in one run.

    .venv/bin/python bench/train_speed.py [--series 105] [--cores 2] [--runs 1]

Prints series per second for each, and the ratio Spark / loop (Spark should cost little beyond the fits).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import load_chain  # noqa: E402

from bakery.forecasting.spark_jobs import spread  # noqa: E402
from bakery.models.config import load_model_config  # noqa: E402
from bakery.models.frames import model_frame  # noqa: E402
from bakery.models.output import FORECAST_COLUMNS, FORECAST_SCHEMA  # noqa: E402
from bakery.models.prophet_model import forecast_series  # noqa: E402

log = logging.getLogger("bench.train_speed")
AS_OF = pd.Timestamp("2019-03-31")


def _quiet() -> None:
    logging.getLogger("cmdstanpy").disabled = True
    logging.getLogger("prophet").setLevel(logging.ERROR)


def _fit_predict(pdf: pd.DataFrame, cfg) -> pd.DataFrame:
    _quiet()
    return forecast_series(model_frame(pdf, cfg), cfg, AS_OF)


def loop(features: pd.DataFrame, cfg) -> tuple[float, int]:
    t0 = time.perf_counter()
    out = [_fit_predict(g, cfg) for _, g in features.groupby("unique_id", sort=True)]
    return time.perf_counter() - t0, sum(o["unique_id"].nunique() for o in out)


def spark_run(spark, features: pd.DataFrame, cfg) -> tuple[float, int]:
    sdf = spread(spark.createDataFrame(features)).cache()
    sdf.count()

    def per_store(pdf: pd.DataFrame) -> pd.DataFrame:
        parts = [_fit_predict(g, cfg) for _, g in pdf.groupby("unique_id", sort=True)]
        out = pd.concat(parts, ignore_index=True)[FORECAST_COLUMNS]
        for col in ("as_of", "ds"):
            out[col] = pd.to_datetime(out[col]).dt.date
        return out

    t0 = time.perf_counter()
    rows = sdf.groupBy("store_id").applyInPandas(per_store, FORECAST_SCHEMA).toPandas()
    seconds = time.perf_counter() - t0
    sdf.unpersist()
    return seconds, rows["unique_id"].nunique()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--series", type=int, default=105)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    _quiet()
    cfg = load_model_config()
    features = load_chain()
    features = features[features["date"] <= AS_OF + pd.Timedelta(days=cfg.max_horizon)]
    uids = sorted(features["unique_id"].unique())[: args.series]
    features = features[features["unique_id"].isin(uids)].reset_index(drop=True)
    days = features.groupby("unique_id")["date"].agg(lambda d: (d.max() - d.min()).days + 1).median()
    log.info("%d series, median span %d days (to %s + 28 days of regressors)", len(uids), days, AS_OF.date())

    from bakery.config import load_settings
    from bakery.spark import get_spark

    settings = load_settings(
        home=Path(tempfile.mkdtemp(prefix="train_speed_")),
        overrides={"spark": {"master": f"local[{args.cores}]", "shuffle_partitions": args.cores}},
    )
    spark = get_spark(settings)
    spark_runs, loop_runs = [], []
    for _ in range(args.runs):
        s, n_spark = spark_run(spark, features, cfg)
        spark_runs.append(s)
        s, n_loop = loop(features, cfg)
        loop_runs.append(s)
    assert n_spark == n_loop == len(uids), (n_spark, n_loop, len(uids))
    spark_s, loop_s = statistics.median(spark_runs), statistics.median(loop_runs)
    log.info("%-44s %8s %10s", "", "seconds", "series/s")
    log.info("%-44s %8.1f %10.2f", "single-process loop (1 core)", loop_s, len(uids) / loop_s)
    log.info(
        "%-44s %8.1f %10.2f",
        f"Spark applyInPandas per store (local[{args.cores}])",
        spark_s,
        len(uids) / spark_s,
    )
    log.info(
        "speed-up Spark / loop: %.2fx on %d cores (ideal %.1fx); per-series cost in Spark = %.2fx the loop's",
        loop_s / spark_s,
        args.cores,
        args.cores,
        (spark_s * args.cores) / loop_s,
    )
    spark.stop()


if __name__ == "__main__":
    main()
