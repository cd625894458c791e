"""Gold on the small generated demo, through the real bronze and silver steps."""

from __future__ import annotations

from datetime import date

import pytest
from pyspark.sql import functions as F

bronze = pytest.importorskip("bakery.ingest.bronze")
silver = pytest.importorskip("bakery.silver.build")


@pytest.mark.slow
def test_small_demo_gold_is_complete_consistent_and_stable(spark, small_home):
    from bakery.gold.build import build_gold
    from bakery.lakehouse import Lakehouse

    settings = small_home
    lh = Lakehouse(spark, settings)
    bronze.ingest_landing(lh, settings, "b1")
    silver_result = silver.build_silver(lh, settings, "b1", as_of=date(2026, 5, 1))
    result = build_gold(lh, settings, blocked_sources=silver_result.blocked_sources)
    assert result.ok, result.summary_lines()
    assert [t.action for t in result.tables] == ["built", "built"], result.summary_lines()

    daily, features = lh.read("gold", "daily_sales"), lh.read("gold", "features")
    n = daily.count()
    assert n == features.count() == daily.select("store_id", "product_id", "date").distinct().count()
    assert daily.select("store_id").distinct().count() == 2
    statuses = {r.status: r.n for r in daily.groupBy("status").agg(F.count("*").alias("n")).collect()}
    assert statuses.get("sold", 0) > 0.8 * n and set(statuses) <= {"sold", "zero", "closed", "not_offered"}
    wrong = daily.where("(status IN ('closed', 'not_offered')) <> (quantity_sold IS NULL)").count()
    assert wrong == 0
    joined = daily.join(features, ["store_id", "product_id", "date"])
    assert joined.where(~F.col("quantity_sold").eqNullSafe(F.col("y"))).count() == 0
    assert features.where("is_holiday").count() > 0 and features.where("temperature IS NOT NULL").count() > 0.9 * n
    assert not [u for u in result.dictionary["undocumented"] if u.startswith("gold.")]

    again = build_gold(lh, settings, blocked_sources=silver_result.blocked_sources)
    assert [t.action for t in again.tables] == ["unchanged", "unchanged"]
