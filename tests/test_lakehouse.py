"""The Delta IO layer: addressing, idempotent appends and merges, versions."""

from __future__ import annotations

import pytest


def test_merge_upserts_on_keys_and_rerun_changes_nothing(lh):
    df = lh.spark.createDataFrame([("a", 1), ("b", 2)], "k string, v long")
    lh.merge(df, "silver", "t", keys=["k"])
    lh.merge(
        lh.spark.createDataFrame([("b", 3), ("c", 4)], "k string, v long"),
        "silver",
        "t",
        keys=["k"],
        condition="t.v <> s.v",
    )
    assert sorted(map(tuple, lh.read("silver", "t").collect())) == [("a", 1), ("b", 3), ("c", 4)]
    v = lh.version("silver", "t")
    lh.merge(
        lh.spark.createDataFrame([("b", 3)], "k string, v long"),
        "silver",
        "t",
        keys=["k"],
        condition="t.v <> s.v",
    )
    assert lh.read("silver", "t").count() == 3
    assert lh.version("silver", "t") >= v


def test_append_with_same_txn_is_skipped(lh):
    df = lh.spark.createDataFrame([("x",)], "k string")
    lh.append(df, "bronze", "b", txn=("ingest", 1))
    lh.append(df, "bronze", "b", txn=("ingest", 1))
    assert lh.read("bronze", "b").count() == 1
    lh.append(df, "bronze", "b", txn=("ingest", 2))
    assert lh.read("bronze", "b").count() == 2


def test_unknown_layer_and_missing_table_are_clear(lh):
    with pytest.raises(ValueError, match="unknown layer"):
        lh.identifier("platinum", "x")
    with pytest.raises(LookupError, match="silver.nope does not exist"):
        lh.read("silver", "nope")


def test_list_tables_and_identifier_point_at_home(lh, settings):
    lh.append(lh.spark.createDataFrame([(1,)], "a int"), "gold", "g")
    tables = [(t.layer, t.name) for t in lh.list_tables()]
    assert ("gold", "g") in tables
    assert str(settings.tables_dir) in lh.identifier("gold", "g")


def test_databricks_mode_maps_to_catalog_schema_table(spark, tmp_path):
    from bakery.config import load_settings
    from bakery.lakehouse import Lakehouse

    s = load_settings(home=tmp_path, env="databricks", overrides={"storage": {"catalog": "main"}})
    assert Lakehouse(spark, s).identifier("gold", "daily_sales") == "`main`.`gold`.`daily_sales`"


def test_a_table_whose_rows_were_all_deleted_counts_zero_for_status_and_the_app(lh, settings):
    """delta-rs panics listing the add actions of a table with no files (ops.quarantine once every entry left)."""
    from bakery.app.serving import LocalDeltaReader

    lh.append(lh.spark.createDataFrame([("a", 1)], "k string, v long"), "ops", "emptied")
    lh.delete("ops", "emptied", "k = 'a'")
    stats = lh.log_stats("ops", "emptied")
    assert (stats.rows, stats.version, set(stats.dtypes)) == (0, 1, {"k", "v"})
    assert LocalDeltaReader(settings.tables_dir).count("ops", "emptied", 1) == 0
    assert LocalDeltaReader(settings.tables_dir).count("ops", "emptied", 0) == 1
