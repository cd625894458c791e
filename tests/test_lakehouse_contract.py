"""The Lakehouse operations that the pipeline and the app use, held to one contract in both storage modes.

Path mode keeps tables under <home>/tables/<layer>/<name> and answers some reads with delta-rs; catalog mode
(storage.mode databricks, the mode of a Databricks workspace) names them <catalog>.<schema>.<table> and
answers the same reads with Spark SQL. Here catalog mode runs on local Spark's session catalog
(`spark_catalog`, three-part names, managed Delta tables in the session's warehouse directory), with schemas
of its own per test. Every test runs against both modes with the same assertions: the same data gives the
same answers.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from bakery.config import load_settings
from bakery.lakehouse import LAYERS, Lakehouse

ROWS = "k string, v long, day date, at timestamp"
T0 = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
REPLACING_OPERATIONS = ("WRITE", "CREATE OR REPLACE TABLE AS SELECT")
CREATING_OPERATIONS = ("WRITE", "CREATE TABLE AS SELECT")
ERASED = "(?i)time travel|not found|FileNotFound|does not exist"


@pytest.fixture(params=["path", "catalog"])
def house(request: pytest.FixtureRequest, spark, tmp_path):
    """A Lakehouse over an empty home (path mode) or over empty schemas of spark_catalog (catalog mode)."""
    if request.param == "path":
        yield Lakehouse(spark, load_settings(home=tmp_path / "home"))
        return
    schemas = {layer: f"{layer}_{uuid.uuid4().hex[:8]}" for layer in LAYERS}
    storage = {"mode": "databricks", "catalog": "spark_catalog", "schemas": schemas}
    yield Lakehouse(spark, load_settings(home=tmp_path / "home", overrides={"storage": storage}))
    for schema in schemas.values():
        spark.sql(f"DROP SCHEMA IF EXISTS spark_catalog.`{schema}` CASCADE")


def frame(house: Lakehouse, rows: list[tuple], schema: str = ROWS):
    return house.spark.createDataFrame(rows, schema)


def rows(house: Lakehouse, layer: str, name: str, version: int | None = None) -> list[tuple]:
    return sorted(map(tuple, house.read(layer, name, version).collect()), key=repr)


def day(n: int) -> date:
    return date(2026, 3, n)


def seed(house: Lakehouse, layer: str = "silver", name: str = "t") -> None:
    """Version 0 of a small table: three rows over two days."""
    house.append(
        frame(house, [("a", 1, day(1), T0), ("b", 2, day(1), T0), ("c", 3, day(2), T0)]), layer, name
    )


def test_catalog_mode_names_tables_in_the_catalog(house):
    seed(house)
    if house.mode == "local":
        assert house.identifier("silver", "t").startswith("delta.`")
    else:
        assert house.identifier("silver", "t") == f"`spark_catalog`.`{house.schemas['silver']}`.`t`"
        assert house.spark.catalog.tableExists(f"spark_catalog.{house.schemas['silver']}.t")
    assert house.spark.table(house.identifier("silver", "t")).count() == 3


def test_append_creates_then_adds_and_each_commit_is_a_version(house):
    assert not house.exists("silver", "t")
    assert house.version("silver", "t") is None
    with pytest.raises(LookupError, match="silver.t does not exist"):
        house.read("silver", "t")
    seed(house)
    assert house.exists("silver", "t") and not house.exists("gold", "t")
    assert house.version("silver", "t") == 0
    house.append(frame(house, [("d", 4, day(3), T0)]), "silver", "t")
    assert house.version("silver", "t") == 1
    assert [r[0] for r in rows(house, "silver", "t")] == ["a", "b", "c", "d"]
    assert house.versions([("silver", "t"), ("gold", "none")]) == {"silver.t": 1, "gold.none": None}


def test_append_with_a_seen_txn_is_skipped(house):
    df = frame(house, [("x", 1, day(1), T0)])
    house.append(df, "bronze", "b", txn=("ingest", 1))
    house.append(df, "bronze", "b", txn=("ingest", 1))
    assert house.read("bronze", "b").count() == 1 and house.version("bronze", "b") == 0
    house.append(df, "bronze", "b", txn=("ingest", 2))
    assert house.read("bronze", "b").count() == 2 and house.version("bronze", "b") == 1


def test_append_properties_apply_when_it_creates_the_table(house):
    wanted = {"delta.dataSkippingStatsColumns": "k,day"}  # as bronze sets them (ingest/bronze.py)
    house.append(frame(house, [("x", 1, day(1), T0)]), "bronze", "b", properties=wanted)
    house.append(frame(house, [("y", 2, day(1), T0)]), "bronze", "b", properties={"delta.appendOnly": "true"})
    props = house.delta_table("bronze", "b").detail().first()["properties"]
    assert props.get("delta.dataSkippingStatsColumns") == "k,day" and "delta.appendOnly" not in props


def test_append_with_merge_schema_adds_nullable_columns(house):
    seed(house)
    wider = frame(house, [("d", 4, day(3), T0, "new")], f"{ROWS}, note string")
    with pytest.raises(Exception, match="(?i)schema"):
        house.append(wider, "silver", "t")
    house.append(wider, "silver", "t", merge_schema=True)
    got = {r["k"]: r["note"] for r in house.read("silver", "t").collect()}
    assert got == {"a": None, "b": None, "c": None, "d": "new"}


def test_append_partitioned_and_partition_filtered_reads(house):
    house.append(
        frame(house, [("a", 1, day(1), T0), ("b", 2, day(2), T0)]), "gold", "p", partition_by=["day"]
    )
    house.append(frame(house, [("c", 3, day(2), T0)]), "gold", "p", partition_by=["day"])
    assert house.delta_table("gold", "p").detail().first()["partitionColumns"] == ["day"]
    got = house.read_arrow("gold", "p", ["k"], [("day", "=", day(2))])
    assert sorted(got["k"].to_pylist()) == ["b", "c"]


def test_overwrite_replaces_the_table_and_keeps_user_metadata(house):
    seed(house)
    house.overwrite(frame(house, [("z", 9)], "k string, v long"), "gold", "g")
    house.overwrite(
        frame(house, [("y", 8, "x")], "k string, v long, w string"),
        "gold",
        "g",
        user_metadata='{"silver.t": 0}',
    )
    assert rows(house, "gold", "g") == [("y", 8, "x")]
    (newest,) = house.history("gold", "g", limit=1)
    assert (newest["version"], newest["user_metadata"]) == (1, '{"silver.t": 0}')
    assert newest["operation"] in REPLACING_OPERATIONS


def test_overwrite_with_replace_where_replaces_only_matching_rows(house):
    seed(house)
    house.overwrite(
        frame(house, [("c", 30, day(2), T0), ("e", 5, day(2), T0)]),
        "silver",
        "t",
        replace_where="day = DATE'2026-03-02'",
    )
    assert [(r[0], r[1]) for r in rows(house, "silver", "t")] == [("a", 1), ("b", 2), ("c", 30), ("e", 5)]
    with pytest.raises(Exception, match="(?i)replaceWhere|DELTA_REPLACE_WHERE"):
        house.overwrite(
            frame(house, [("f", 6, day(9), T0)]), "silver", "t", replace_where="day = DATE'2026-03-02'"
        )
    assert house.read("silver", "t").count() == 4


def test_merge_upserts_inserts_only_and_deletes_in_one_commit(house):
    kv = "k string, v long"
    house.merge(frame(house, [("a", 1), ("b", 2)], kv), "silver", "m", keys=["k"])  # creates
    assert house.version("silver", "m") == 0
    house.merge(frame(house, [("b", 3), ("c", 4)], kv), "silver", "m", keys=["k"], condition="t.v <> s.v")
    assert rows(house, "silver", "m") == [("a", 1), ("b", 3), ("c", 4)]
    house.merge(frame(house, [("a", 100), ("d", 5)], kv), "silver", "m", keys=["k"], update=False)
    assert rows(house, "silver", "m") == [("a", 1), ("b", 3), ("c", 4), ("d", 5)]
    before = house.version("silver", "m")
    flagged = frame(
        house, [("a", 0, True), ("c", 40, False), ("e", 6, False)], "k string, v long, gone boolean"
    )
    house.merge(flagged, "silver", "m", keys=["k"], delete="gone")
    assert rows(house, "silver", "m") == [("b", 3), ("c", 40), ("d", 5), ("e", 6)]
    assert house.version("silver", "m") == before + 1
    assert house.history("silver", "m", limit=1)[0]["operation"] == "MERGE"


def test_merge_keys_are_null_safe(house):
    kv = "k string, v long"
    house.merge(frame(house, [(None, 1)], kv), "ops", "n", keys=["k"])
    house.merge(frame(house, [(None, 2)], kv), "ops", "n", keys=["k"])
    assert rows(house, "ops", "n") == [(None, 2)]


def test_delete_removes_matching_rows_and_ignores_a_missing_table(house):
    seed(house)
    house.delete("silver", "t", "k = 'a'")
    house.delete("silver", "absent", "k = 'a'")
    assert [r[0] for r in rows(house, "silver", "t")] == ["b", "c"]
    assert not house.exists("silver", "absent")


def test_reads_an_earlier_version(house):
    seed(house)
    house.delete("silver", "t", "v > 1")
    house.overwrite(frame(house, [("q", 7, day(5), T0)]), "silver", "t")
    assert [r[0] for r in rows(house, "silver", "t", version=0)] == ["a", "b", "c"]
    assert [r[0] for r in rows(house, "silver", "t", version=1)] == ["a"]
    assert [r[0] for r in rows(house, "silver", "t")] == ["q"]


def test_history_lists_commits_newest_first_with_the_same_fields(house):
    seed(house)
    house.delete("silver", "t", "k = 'a'")
    house.overwrite(frame(house, [("q", 7, day(5), T0)]), "silver", "t", user_metadata="lineage")
    assert house.history("silver", "absent") == []
    commits = house.history("silver", "t")
    assert [(c["version"], c["user_metadata"]) for c in commits] == [(2, "lineage"), (1, None), (0, None)]
    # In a catalog saveAsTable commits the first write as CREATE TABLE AS SELECT and a full overwrite as CREATE OR
    # REPLACE TABLE AS SELECT; what reads history (gold lineage, retention's removes_files) takes each pair alike.
    assert commits[0]["operation"] in REPLACING_OPERATIONS and commits[1]["operation"] == "DELETE"
    assert commits[2]["operation"] in CREATING_OPERATIONS
    assert "predicate" in commits[1]["parameters"]
    assert all(
        c["timestamp"].tzinfo is UTC and abs(datetime.now(UTC) - c["timestamp"]).total_seconds() < 3600
        for c in commits
    )
    assert [c["version"] for c in house.history("silver", "t", limit=2)] == [2, 1]


def test_vacuum_keeps_history_inside_retention_and_purge_erases_it(house):
    seed(house)
    house.overwrite(frame(house, [("q", 7, day(5), T0)]), "silver", "t")
    house.vacuum("silver", "absent", 0)  # no table, nothing to do
    with pytest.raises(Exception, match="(?i)retention"):
        house.vacuum("silver", "t", 0)
    house.vacuum("silver", "t", 168, lite=True)
    house.vacuum("silver", "t", 168)
    assert [r[0] for r in rows(house, "silver", "t", version=0)] == ["a", "b", "c"]
    house.vacuum("silver", "t", 0, lite=True, purge=True)
    with pytest.raises(Exception, match=ERASED):
        house.read("silver", "t", version=0).collect()
    assert rows(house, "silver", "t") == [("q", 7, day(5), T0.replace(tzinfo=None))]
    assert house.spark.conf.get("spark.databricks.delta.retentionDurationCheck.enabled", "true") == "true"


def test_purge_history_erases_earlier_versions(house):
    from bakery.admin.gdpr import purge_history

    seed(house)
    house.delete("silver", "t", "k = 'a'")
    purge_history(house, "silver", "t")
    with pytest.raises(Exception, match=ERASED):
        house.read("silver", "t", version=0).collect()
    assert [r[0] for r in rows(house, "silver", "t")] == ["b", "c"]


def test_list_tables_lists_each_layer_and_nothing_else(house):
    assert house.list_tables() == []
    seed(house, "silver", "t")
    seed(house, "gold", "g")
    seed(house, "gold", "a")
    house.spark.createDataFrame([(1,)], "x int").createOrReplaceTempView("not_a_table")
    try:
        tables = house.list_tables()
    finally:
        house.spark.catalog.dropTempView("not_a_table")
    assert [(t.layer, t.name) for t in tables] == [("silver", "t"), ("gold", "a"), ("gold", "g")]
    assert [t.identifier for t in tables] == [house.identifier(t.layer, t.name) for t in tables]


def test_read_arrow_selects_columns_and_filters_rows_alike(house):
    seed(house)
    got = house.read_arrow("silver", "t", ["k", "v", "day", "at"], [("v", ">=", 2), ("day", "<=", day(2))])
    assert got.column_names == ["k", "v", "day", "at"]
    assert sorted(got.to_pylist(), key=lambda r: r["k"]) == [
        {"k": "b", "v": 2, "day": day(1), "at": T0},
        {"k": "c", "v": 3, "day": day(2), "at": T0},
    ]
    assert house.read_arrow("silver", "t").num_rows == 3
    assert house.read_arrow("silver", "t", ["k"], [("k", "!=", "a"), ("v", "<", 3)])["k"].to_pylist() == ["b"]
    with pytest.raises(LookupError, match="gold.none does not exist"):
        house.read_arrow("gold", "none", ["k"])


def test_distinct_values_and_arrow_batches(house):
    seed(house)
    house.append(frame(house, [("a", 1, day(1), T0)]), "silver", "t")
    assert sorted(house.distinct_values("silver", "t", "k")) == ["a", "b", "c"]
    batches = list(house.arrow_batches("silver", "t", ["day", "k"]))
    assert {b.schema.names[0] for b in batches} == {"day"} and sum(b.num_rows for b in batches) == 4
    assert sorted(v for b in batches for v in b.column(1).to_pylist()) == ["a", "a", "b", "c"]


def test_comments_are_written_and_read_back(house):
    seed(house)
    assert house.table_comment("silver", "t") is None
    house.comment("silver", "t", "Sales it's", {"k": "the key", "nope": "skipped"})
    assert house.table_comment("silver", "t") == "Sales it's"
    fields = {f.name: f.metadata.get("comment") for f in house.read("silver", "t").schema.fields}
    assert fields == {"k": "the key", "v": None, "day": None, "at": None}


def test_identifier_takes_ddl(house):
    """silver/records.py adds columns to a table with ALTER TABLE on its identifier."""
    seed(house)
    house.spark.sql(f"ALTER TABLE {house.identifier('silver', 't')} ADD COLUMNS (extra string)")
    assert house.read("silver", "t").columns == ["k", "v", "day", "at", "extra"]


def test_status_profiles_rows_versions_and_dates_alike(house):
    """`bakery status` profiles every table: from the Delta log in path mode, by a Spark scan in catalog mode."""
    from bakery.ops.status import profile_tables

    dated = "k string, date date"
    house.append(frame(house, [("a", day(1)), ("b", day(3))], dated), "silver", "t")
    house.append(frame(house, [("c", day(9)), ("d", None)], dated), "silver", "t")
    house.merge(frame(house, [("a", 1)], "k string, v long"), "gold", "g", keys=["k"])
    profiles = [
        (p.layer, p.name, p.date_column, p.rows, p.version, p.first_date, p.latest_date)
        for p in profile_tables(house, house.settings)
    ]
    assert profiles == [("silver", "t", "date", 4, 1, day(1), day(9)), ("gold", "g", None, 1, 0, None, None)]


@pytest.fixture
def app_reader(house):
    """The app's table reader for the mode: delta-rs over the home's tables, or the SQL warehouse reader over
    the statement-execution stand-in, whose Spark answers the catalog names (none of them is mapped to a path)."""
    from bakery.app.serving import DatabricksSqlReader, LocalDeltaReader

    if house.mode == "local":
        yield LocalDeltaReader(house.settings.tables_dir)
        return
    from databricks.sdk import WorkspaceClient

    from tests.app.statement_standin import StatementStandIn

    with StatementStandIn(house.spark, house.settings.tables_dir, catalog="no_catalog_mapped") as standin:
        client = WorkspaceClient(host=standin.host, token=standin.token)
        yield DatabricksSqlReader(house.catalog, house.schemas, standin.warehouse_id, client)


def test_the_apps_reader_reads_what_the_lakehouse_wrote(house, app_reader):
    import pandas as pd
    import pyarrow as pa

    seed(house, "gold", "g")
    seed(house, "ops", "runs")  # the app appends to ops tables of a schema that exists
    house.delete("gold", "g", "k = 'a'")
    assert (app_reader.version("gold", "g"), app_reader.version("gold", "none")) == (1, None)
    assert (app_reader.count("gold", "g", 0), app_reader.count("gold", "g", 1)) == (3, 2)
    got = app_reader.read("gold", "g", 1, ["k", "v", "day", "missing"], [("v", ">=", 3)])
    assert got.to_dict("records") == [{"k": "c", "v": 3, "day": day(2)}]
    assert sorted(app_reader.read("gold", "g", 0, ["k"])["k"]) == ["a", "b", "c"]
    app_reader.append(
        "ops",
        "app_log",
        pd.DataFrame({"k": ["x"], "n": [1]}),
        pa.schema([("k", pa.string()), ("n", pa.int64())]),
    )
    assert house.exists("ops", "app_log") and rows(house, "ops", "app_log") == [("x", 1)]
