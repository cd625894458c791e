"""The small generated demo through bronze and silver (the session's built_small): every bronze row explained,
injected defects caught."""

from __future__ import annotations

import pandas as pd
import pytest
from pyspark.sql import functions as F

from bakery.lakehouse import Lakehouse
from tests.conftest import SMALL_AS_OF, copy_home

QUARANTINED_DEFECTS = {
    "negative_quantity",
    "absurd_quantity",
    "malformed_field_count",
    "malformed_number",
    "malformed_timestamp",
}


@pytest.mark.slow
def test_small_demo_reconciles_and_quarantines_every_injected_defect(
    spark, built_small, small_demo, tmp_path
):
    pytest.importorskip("bakery.generate")
    pytest.importorskip("bakery.ingest.bronze")
    from bakery.silver.build import build_silver

    lh = Lakehouse(spark, built_small.settings)
    result = built_small.report.steps["silver"]
    assert result.ok, result.summary_lines()

    totals = (
        lh.read("ops", "reconciliation")
        .groupBy("source")
        .agg(*[F.sum(c).alias(c) for c in ("bronze_rows", "silver_rows", "quarantined", "duplicates")])
    )
    for row in totals.collect():
        assert row.bronze_rows == row.silver_rows + row.quarantined + row.duplicates, row
        assert row.silver_rows > 0, row
    assert (
        lh.read("silver", "pos_transactions").count() == totals.filter("source = 'pos'").first().silver_rows
    )

    defects = pd.read_csv(small_demo.defects_path)
    defects = defects[defects.defect.isin(QUARANTINED_DEFECTS)]
    caught = {
        (r.source_file, r.row_number)
        for r in lh.read("ops", "quarantine")
        .filter("source = 'pos'")
        .select("source_file", "row_number")
        .collect()
    }
    missed = [
        (f, int(n), d)
        for f, n, d in zip(defects.file, defects.row_number, defects.defect, strict=True)
        if (f, int(n)) not in caught
    ]
    assert not missed, missed[:10]

    inventory = lh.read("silver", "inventory_daily")
    assert inventory.filter("closing_stock < 0").count() == 0
    assert inventory.filter("stockout").count() > 0

    mine = copy_home(built_small.settings, tmp_path / "home")  # built_small is shared: rerun on a copy
    lh = Lakehouse(spark, mine)
    tables = [("silver", t.name) for t in lh.list_tables() if t.layer == "silver"]
    before = lh.versions(tables)
    assert build_silver(lh, mine, "demo-2", as_of=SMALL_AS_OF).ok
    assert lh.versions(tables) == before
