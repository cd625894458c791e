"""Serving data: reads without Spark, caches until a new table version lands, copes with missing tables."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from bakery.app.serving import LocalDeltaReader, ServingData, build_select, parse_components
from bakery.ops import upload_batches
from bakery.tables import UPLOAD_BATCHES
from tests.app.sample_tables import FORECAST_SCHEMA, write_sample_tables


def _serving(tables, ttl=0.0):
    return ServingData(LocalDeltaReader(tables), version_check_seconds=ttl)


def test_no_tables_at_all_gives_empty_answers(tmp_path):
    s = _serving(tmp_path / "tables")
    assert s.forecast_snapshot() is None
    assert s.forecasts(["S01"]).empty and s.metrics().empty and s.runs().empty
    assert s.stores().empty and s.latest_sales_date() is None and s.recent_sales() == {}
    assert s.freshness() == {"latest_sales_date": None, "latest_forecast_as_of": None, "forecast_stores": 0}
    assert s.row_count(("gold", "daily_sales")) == 0


def test_sales_without_forecasts(tmp_path):
    write_sample_tables(tmp_path / "tables", stores=1, products=2, days=10, with_forecasts=False)
    s = _serving(tmp_path / "tables")
    assert s.forecast_snapshot() is None
    assert s.latest_sales_date() == date(2026, 4, 30)
    assert len(s.sales(["S01"], date(2026, 4, 25), date(2026, 4, 30))) == 12


def test_snapshot_is_the_latest_run_split_per_store(tmp_path):
    write_sample_tables(tmp_path / "tables", stores=2, products=3, days=10, past_as_of=3)
    s = _serving(tmp_path / "tables")
    snap = s.forecast_snapshot()
    assert snap.as_of == date(2026, 4, 30) and snap.store_ids == ["S01", "S02"]
    assert set(snap.roles["role"]) == {"champion", "challenger", "shadow"}
    tomorrow = s.forecasts(["S01"], product_id="P002", horizon=1)
    assert len(tomorrow) == 1 and tomorrow["date"].iloc[0] == pd.Timestamp("2026-05-01")
    assert len(s.forecasts(["S01", "S02"], target_date=date(2026, 5, 3))) == 6
    assert len(s.forecasts(["S01"], role=None, horizon=1)) == 9
    past = s.past_forecasts("S01", "P001", date(2026, 4, 28), date(2026, 5, 1), horizons=(1,))
    assert past["as_of"].dt.date.tolist() == [
        date(2026, 4, 27),
        date(2026, 4, 28),
        date(2026, 4, 29),
        date(2026, 4, 30),
    ]


def test_cache_is_dropped_when_a_new_version_lands(tmp_path):
    tables = tmp_path / "tables"
    write_sample_tables(tables, stores=1, products=1, days=5, past_as_of=0)
    s = _serving(tables, ttl=0.0)
    first = s.forecast_snapshot()
    assert s.forecast_snapshot() is first  # cached: same object while the version is unchanged
    newer = s.forecasts(["S01"]).copy()
    newer["as_of"] = date(2026, 5, 1)
    newer["date"] = newer["date"] + pd.Timedelta(days=1)
    newer["as_of"] = newer["as_of"].astype(object)
    newer["date"] = newer["date"].dt.date
    write_deltalake(
        str(tables / "gold" / "forecasts"),
        pa.Table.from_pandas(newer[FORECAST_SCHEMA.names], schema=FORECAST_SCHEMA, preserve_index=False),
        mode="append",
    )
    assert s.forecast_snapshot().as_of == date(2026, 5, 1)


def test_version_checks_are_throttled(tmp_path):
    tables = tmp_path / "tables"
    write_sample_tables(tables, stores=1, products=1, days=5, past_as_of=0)
    calls = []
    reader = LocalDeltaReader(tables)
    original = reader.version

    def counting(layer, name):
        calls.append((layer, name))
        return original(layer, name)

    reader.version = counting
    s = ServingData(reader, version_check_seconds=60)
    for _ in range(20):
        s.forecast_snapshot()
    assert calls.count(("gold", "forecasts")) == 1
    loads, hits = s.loads, s.hits
    for _ in range(200):
        s.forecasts(["S01"], horizon=1)
    # Served from the cached snapshot: no table read and no version check per request.
    assert s.loads == loads and s.hits == hits + 200
    assert calls.count(("gold", "forecasts")) == 1


def test_sql_for_the_warehouse_is_parameterised():
    sql, params = build_select(
        "`c`.`gold`.`forecasts`",
        ["store_id", "yhat"],
        [("store_id", "in", ["S1", "x'; DROP TABLE t; --"]), ("horizon", "=", 1)],
    )
    assert sql == (
        "SELECT `store_id`, `yhat` FROM `c`.`gold`.`forecasts` WHERE `store_id` IN (:p0_0, :p0_1) "
        "AND `horizon` = :p1"
    )
    assert params[1]["value"] == "x'; DROP TABLE t; --"


def test_parse_components_tolerates_junk():
    assert parse_components('{"trend": 1, "x": "2.5", "bad": "n/a"}') == {"trend": 1.0, "x": 2.5}
    assert parse_components("not json") == {} and parse_components(None) == {}


def _event(i: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "batch_id": [f"b{i % 4}"],
            "kind": ["sales"],
            "source_file": [f"sales/f{i}.parquet"],
            "original_name": ["ventas.csv"],
            "file_hash": ["h"],
            "uploaded_by": ["ana"],
            "status": ["deleted" if i >= 8 else "accepted"],
            "rows_loaded": [10],
            "replaces": [None],
            "changed_at": [pd.Timestamp("2026-05-01") + pd.Timedelta(minutes=i)],
        }
    )


def test_an_append_only_log_is_compacted_and_checkpointed_and_reads_the_same(tmp_path):
    """One commit per upload event would leave one file per event, all opened by every read (2-5 s at 1,500
    events): every compact_every commits the small files are merged and the log checkpointed, rows unchanged."""
    reader = LocalDeltaReader(tmp_path / "tables", compact_every=5)
    plain = LocalDeltaReader(tmp_path / "plain")
    for i in range(12):
        upload_batches.append_events(reader, _event(i))
        upload_batches.append_events(plain, _event(i))
    path = tmp_path / "tables" / "ops" / "upload_batches"
    assert len(DeltaTable(str(path)).files()) < 6  # 12 events, 12 files without compaction
    assert len(DeltaTable(str(tmp_path / "plain" / "ops" / "upload_batches")).files()) == 12
    assert list((path / "_delta_log").glob("*.checkpoint.parquet"))
    assert upload_batches.latest_statuses(reader) == upload_batches.latest_statuses(plain)
    assert upload_batches.latest_statuses(reader) == {f"b{k}": "deleted" for k in range(4)}
    version = reader.version(*UPLOAD_BATCHES)
    got = reader.read(*UPLOAD_BATCHES, version).sort_values("changed_at", ignore_index=True)
    assert len(got) == 12 and list(got["source_file"]) == [f"sales/f{i}.parquet" for i in range(12)]


def test_a_bad_compaction_interval_names_the_setting(tmp_path):
    for bad in (1, "50", True):
        with pytest.raises(ValueError, match="serving.compact_appends_every"):
            LocalDeltaReader(tmp_path, compact_every=bad)


def test_appends_from_two_writers_survive_each_others_compactions(tmp_path):
    """Two app workers append to the same log, and each one's compaction can commit between the other's read and
    commit (delta-rs then fails that append): the append is written again, and no event is lost or doubled."""
    from concurrent.futures import ThreadPoolExecutor

    tables = tmp_path / "tables"
    writers = [LocalDeltaReader(tables, compact_every=3) for _ in range(2)]
    upload_batches.append_events(writers[0], _event(0))

    def run(k: int) -> None:
        for i in range(1 + k, 41, 2):
            upload_batches.append_events(writers[k], _event(i))

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(run, [0, 1]))
    got = writers[0].read(*UPLOAD_BATCHES, writers[0].version(*UPLOAD_BATCHES))
    assert sorted(got["source_file"]) == sorted(f"sales/f{i}.parquet" for i in range(41))
