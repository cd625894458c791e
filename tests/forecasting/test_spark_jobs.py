"""The per-store Spark jobs run stores in parallel tasks (adaptive execution must not fold them into one)."""

from __future__ import annotations

import pandas as pd
from pyspark import TaskContext

from bakery.forecasting.spark_jobs import spread


def _task_of_each_store(pdf: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"store_id": [pdf["store_id"].iloc[0]], "partition": [TaskContext.get().partitionId()]})


def test_stores_are_trained_in_separate_tasks(spark):
    rows = pd.DataFrame({"store_id": [f"S{k:03d}" for k in range(1, 5) for _ in range(50)], "y": 1.0})
    df = spark.createDataFrame(rows)
    schema = "store_id string, partition int"
    spread_out = spread(df).groupBy("store_id").applyInPandas(_task_of_each_store, schema).toPandas()
    assert sorted(spread_out["store_id"]) == ["S001", "S002", "S003", "S004"]
    # Without spread, adaptive execution coalesces this small shuffle into a single task.
    assert spread_out["partition"].nunique() >= 3
