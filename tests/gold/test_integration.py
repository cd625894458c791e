"""Gold on the small generated demo, through the real bronze and silver steps (the session's built_small)."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from tests.conftest import copy_home

pytest.importorskip("bakery.ingest.bronze")
pytest.importorskip("bakery.silver.build")


@pytest.mark.slow
def test_small_demo_gold_is_complete_consistent_and_stable(spark, built_small, tmp_path):
    from bakery.gold.build import build_gold
    from bakery.lakehouse import Lakehouse

    settings, report = built_small.settings, built_small.report
    lh = Lakehouse(spark, settings)
    silver_result, result = report.steps["silver"], report.steps["gold"]
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
    assert (
        features.where("is_holiday").count() > 0
        and features.where("temperature IS NOT NULL").count() > 0.9 * n
    )
    assert not [u for u in result.dictionary["undocumented"] if u.startswith("gold.")]

    mine = copy_home(settings, tmp_path / "home")  # built_small is shared: rerun on a copy
    again = build_gold(Lakehouse(spark, mine), mine, blocked_sources=silver_result.blocked_sources)
    assert [t.action for t in again.tables] == ["unchanged", "unchanged"]
