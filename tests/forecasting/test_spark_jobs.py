"""The per-store Spark jobs run stores in parallel tasks (adaptive execution must not fold them into one),
in a few tasks per core rather than one per store."""

from __future__ import annotations

import pandas as pd
from pyspark import TaskContext

from bakery.forecasting.spark_jobs import TASKS_PER_CORE, spread


def _task_of_each_store(pdf: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {"store_id": [pdf["store_id"].iloc[0]], "partition": [TaskContext.get().partitionId()]}
    )


def _spread_tasks(spark, stores: int) -> pd.DataFrame:
    rows = pd.DataFrame(
        {"store_id": [f"S{k:03d}" for k in range(1, stores + 1) for _ in range(50)], "y": 1.0}
    )
    schema = "store_id string, partition int"
    return (
        spread(spark.createDataFrame(rows))
        .groupBy("store_id")
        .applyInPandas(_task_of_each_store, schema)
        .toPandas()
    )


def test_stores_are_trained_in_separate_tasks(spark):
    out = _spread_tasks(spark, 4)
    assert sorted(out["store_id"]) == ["S001", "S002", "S003", "S004"]
    # Without spread, adaptive execution coalesces this small shuffle into a single task.
    assert out["partition"].nunique() >= 3


def test_many_stores_share_a_few_tasks_per_core(spark):
    out = _spread_tasks(spark, 30)
    cores = spark.sparkContext.defaultParallelism
    assert len(out) == 30 and out["store_id"].is_unique
    assert cores <= out["partition"].nunique() <= cores * TASKS_PER_CORE
    assert out.groupby("partition").size().max() <= 30 // out["partition"].nunique() + 3  # evenly spread
