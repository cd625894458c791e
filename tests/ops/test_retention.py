"""Retention: exactly the rows past each layer's horizon go, audit records stay 5 years, reruns do nothing."""

from __future__ import annotations

import hashlib
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from bakery.admin.retention import enforce_retention
from bakery.ops.retention import Commit, horizons, needs_vacuum, years_before
from tests.ops.helpers import tiny_settings, write

TODAY = date(2026, 11, 25)  # raw horizon 2021-11-25, processed horizon 2023-11-25


def _ids(lh, layer: str, name: str, column: str) -> set:
    return set(lh.read_arrow(layer, name, [column])[column].to_pylist())


def _record_landing_files(lh, files: dict[str, tuple[bytes, bytes, datetime]]) -> None:
    """files: relpath -> (bytes now on disk, bytes recorded as ingested, when)."""
    from bakery.ingest.registry import INGESTED_FILES_SCHEMA

    rows = []
    for rel, (on_disk, recorded, at) in files.items():
        path = lh.settings.landing_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(on_disk)
        if at is not None:
            rows.append(
                (
                    "pos",
                    rel,
                    hashlib.sha256(recorded).hexdigest(),
                    len(recorded),
                    1,
                    "ingested",
                    None,
                    "b1",
                    at,
                )
            )
    lh.append(lh.spark.createDataFrame(rows, INGESTED_FILES_SCHEMA), "ops", "ingested_files")


@pytest.fixture
def aged(spark, tmp_path):
    """Each dated table holds one row just past its horizon, one on the horizon day, and newer ones."""
    from bakery.lakehouse import Lakehouse
    from bakery.ops.quarantine import QUARANTINE_SCHEMA
    from bakery.ops.runs import RUNS_SCHEMA

    lh = Lakehouse(spark, tiny_settings(tmp_path / "home"))
    write(
        lh,
        "bronze",
        "pos_transactions",
        [
            ("b_old", datetime(2021, 11, 24, 23, 59, 59)),
            ("b_edge", datetime(2021, 11, 25)),
            ("b_new", datetime(2024, 1, 1)),
        ],
        "transaction_id string, _ingested_at timestamp",
    )
    write(
        lh,
        "silver",
        "pos_transactions",
        [
            ("s_old", datetime(2023, 11, 24, 23)),
            ("s_edge", datetime(2023, 11, 25)),
            ("s_new", datetime(2026, 11, 1)),
        ],
        "transaction_id string, timestamp timestamp",
    )
    write(lh, "silver", "stores", [("S01",)], "store_id string")
    write(
        lh,
        "gold",
        "daily_sales",
        [("g_old", date(2023, 11, 24)), ("g_edge", date(2023, 11, 25)), ("g_null", None)],
        "id string, date date",
    )
    lh.append(
        spark.createDataFrame(
            [
                ("r_old", "pipeline", datetime(2021, 1, 1), None, "success", 1.0, "", "{}"),
                ("r_audit", "pipeline", datetime(2022, 1, 1), None, "success", 1.0, "", "{}"),
            ],
            RUNS_SCHEMA,
        ),
        "ops",
        "runs",
    )
    lh.append(
        spark.createDataFrame(
            [
                ("pos", "pos/x.csv", 1, "b0", "r", None, "old", None, datetime(2020, 6, 1)),
                ("pos", "pos/y.csv", 1, "b1", "r", None, "audit", None, datetime(2022, 6, 1)),
            ],
            QUARANTINE_SCHEMA,
        ),
        "ops",
        "quarantine",
    )
    _record_landing_files(
        lh,
        {
            "pos/expired.csv": (b"a\n1\n", b"a\n1\n", datetime(2021, 1, 1)),
            "pos/replaced.csv": (b"a\n2\n", b"a\n0\n", datetime(2021, 1, 1)),  # new bytes under an old name
            "pos/recent.csv": (b"a\n3\n", b"a\n3\n", datetime(2025, 1, 1)),
            "pos/waiting.csv": (b"a\n4\n", b"", None),  # not ingested yet
        },
    )
    return lh


def test_deletes_exactly_the_old_rows_then_a_rerun_does_nothing(aged):
    lh = aged
    report = enforce_retention(lh, lh.settings, TODAY)

    assert report["horizons"] == {"raw": "2021-11-25", "processed": "2023-11-25"}
    assert report["deleted_rows"] == {
        "bronze.pos_transactions": 1,
        "silver.pos_transactions": 1,
        "gold.daily_sales": 1,
        "ops.ingested_files": 2,
        "ops.quarantine": 1,
        "ops.runs": 1,
    }
    assert _ids(lh, "bronze", "pos_transactions", "transaction_id") == {"b_edge", "b_new"}
    assert _ids(lh, "silver", "pos_transactions", "transaction_id") == {"s_edge", "s_new"}
    assert _ids(lh, "gold", "daily_sales", "id") == {"g_edge", "g_null"}  # an undated row is never deleted
    assert _ids(lh, "silver", "stores", "store_id") == {"S01"} and "silver.stores" in report["untouched"]
    # ops records are the raw data's audit trail: 5 years, not the 3 of processed data
    assert _ids(lh, "ops", "runs", "run_id") >= {"r_audit"} and "r_old" not in _ids(
        lh, "ops", "runs", "run_id"
    )
    assert _ids(lh, "ops", "quarantine", "reason") == {"audit"}
    landing = lh.settings.landing_dir / "pos"
    assert report["landing_files_deleted"] == ["pos/expired.csv"]
    assert sorted(p.name for p in landing.iterdir()) == ["recent.csv", "replaced.csv", "waiting.csv"]
    assert report["vacuumed"] == []  # nothing was removed 168 hours ago
    assert "deleted 7 rows" in report["summary"]

    business = [(t.layer, t.name) for t in lh.list_tables() if t.layer != "ops"]
    versions = lh.versions(business)
    again = enforce_retention(lh, lh.settings, TODAY)
    assert again["deleted_rows"] == {} and again["landing_files_deleted"] == [] and again["vacuumed"] == []
    assert lh.versions(business) == versions
    runs = sorted(
        lh.read_arrow(
            "ops", "runs", ["started", "status", "message"], [("job", "=", "retention")]
        ).to_pylist(),
        key=lambda r: r["started"],
    )
    assert [r["status"] for r in runs] == ["success", "success"] and "deleted 0 rows" in runs[-1]["message"]


def test_vacuum_removes_the_deleted_rows_files_once(spark, tmp_path):
    from bakery.lakehouse import Lakehouse

    # A home that promises no time travel, on a table whose Delta retention says the same.
    lh = Lakehouse(spark, tiny_settings(tmp_path / "home", vacuum_hours=0, time_travel_hours=0))
    write(lh, "gold", "daily_sales", [("old", date(2020, 1, 1))], "id string, date date")
    write(lh, "gold", "daily_sales", [("new", date(2026, 1, 1))], "id string, date date")
    spark.sql(
        f"ALTER TABLE {lh.identifier('gold', 'daily_sales')} "
        "SET TBLPROPERTIES ('delta.deletedFileRetentionDuration' = 'interval 0 hours')"
    )
    from pyspark.sql import functions as F

    old_file = lh.read("gold", "daily_sales").filter("id = 'old'").select(F.input_file_name()).first()[0]
    old_path = Path(unquote(urlparse(old_file).path))
    assert old_path.is_file()

    first = enforce_retention(lh, lh.settings, TODAY)
    assert first["deleted_rows"] == {"gold.daily_sales": 1}
    assert first["vacuumed"] == ["gold.daily_sales"]
    assert not old_path.exists()  # the deleted row is gone from storage, not only from the table
    assert _ids(lh, "gold", "daily_sales", "id") == {"new"}
    assert enforce_retention(lh, lh.settings, TODAY)["vacuumed"] == []


T0 = datetime(2026, 11, 1)
WEEK = timedelta(hours=168)


@pytest.mark.parametrize(
    ("commits", "now", "expected"),
    [
        ([Commit(T0, "WRITE", "Append"), Commit(T0, "MERGE")], T0 + WEEK / 2, False),  # too young
        (
            [Commit(T0, "WRITE", "Append"), Commit(T0 + WEEK, "WRITE", "Append")],
            T0 + 3 * WEEK,
            False,
        ),  # append-only
        ([Commit(T0, "DELETE")], T0 + 2 * WEEK, True),
        ([Commit(T0, "WRITE", "Overwrite")], T0 + 2 * WEEK, True),
        (
            [
                Commit(T0, "DELETE"),
                Commit(T0 + 2 * WEEK, "VACUUM START", retention_ms=int(WEEK.total_seconds() * 1000)),
                Commit(T0 + 2 * WEEK, "VACUUM END"),
            ],
            T0 + 3 * WEEK,
            False,
        ),  # already vacuumed
        (
            [
                Commit(T0, "DELETE"),
                Commit(T0 + WEEK / 2, "VACUUM START", retention_ms=int(WEEK.total_seconds() * 1000)),
                Commit(T0 + WEEK / 2, "VACUUM END"),
            ],
            T0 + 2 * WEEK,
            True,
        ),  # the last vacuum was too early for it
    ],
)
def test_vacuum_runs_only_when_a_removal_has_aged_past_the_horizon(commits, now, expected):
    assert needs_vacuum(commits, WEEK, now) is expected


def test_horizons_and_leap_days(tmp_path):
    assert years_before(date(2028, 2, 29), 3) == date(2025, 2, 28)
    assert horizons(tiny_settings(tmp_path), TODAY) == {
        "raw": date(2021, 11, 25),
        "processed": date(2023, 11, 25),
    }
    with pytest.raises(ValueError, match="retention.processed_years"):
        horizons(tiny_settings(tmp_path, processed_years="3y"), TODAY)


def _deleted_file(lh, layer: str, name: str, row_id: str) -> Path:
    """Delete the row `row_id` and return the path of the data file that held it (unreferenced now)."""
    from pyspark.sql import functions as F

    file = lh.read(layer, name).filter(f"id = '{row_id}'").select(F.input_file_name()).first()[0]
    lh.delete(layer, name, f"id = '{row_id}'")
    return Path(unquote(urlparse(file).path))


def test_vacuum_below_the_tables_retention_is_refused_unless_purging(spark, tmp_path):
    """Delta's retention safety check is on: only a deliberate purge (an erase) vacuums younger files."""
    from bakery.lakehouse import Lakehouse
    from bakery.spark import DELTA_RETENTION_CHECK

    lh = Lakehouse(spark, tiny_settings(tmp_path / "home"))
    write(lh, "gold", "daily_sales", [("old", date(2020, 1, 1))], "id string, date date")
    write(lh, "gold", "daily_sales", [("new", date(2026, 1, 1))], "id string, date date")
    old = _deleted_file(lh, "gold", "daily_sales", "old")

    for lite in (True, False):
        with pytest.raises(Exception, match="retentionDurationCheck"):
            lh.vacuum("gold", "daily_sales", 0, lite=lite)
    assert old.is_file()  # still there: the versions before the delete can be restored

    lh.vacuum("gold", "daily_sales", 0, lite=True, purge=True)
    assert not old.exists()
    assert spark.conf.get(DELTA_RETENTION_CHECK, "true") == "true"  # on again after the purge
    _deleted_file(lh, "gold", "daily_sales", "new")
    with pytest.raises(Exception, match="retentionDurationCheck"):
        lh.vacuum("gold", "daily_sales", 0, lite=True)


def test_a_vacuum_horizon_below_the_time_travel_window_is_refused(tmp_path):
    with pytest.raises(
        ValueError, match=r"retention.vacuum_hours is 24: the minimum is 168.*time_travel_hours"
    ):
        tiny_settings(tmp_path, vacuum_hours=24)
    with pytest.raises(ValueError, match="retention.time_travel_hours must be a number of hours >= 0"):
        tiny_settings(tmp_path, time_travel_hours="7d")
    assert tiny_settings(tmp_path, vacuum_hours=200).get("retention.vacuum_hours") == 200


def test_bakery_retention_refuses_a_short_vacuum_horizon_before_touching_anything(
    tmp_path, monkeypatch, capsys
):
    from bakery.cli import EXIT_USAGE, main
    from tests import REPO_ROOT

    conf = tmp_path / "conf"
    shutil.copytree(REPO_ROOT / "conf", conf)
    base = (conf / "base.yml").read_text(encoding="utf-8")
    (conf / "base.yml").write_text(base.replace("vacuum_hours: 168", "vacuum_hours: 1"), encoding="utf-8")
    monkeypatch.setenv("BAKERY_CONF_DIR", str(conf))
    with pytest.raises(SystemExit) as exc:
        main(["--home", str(tmp_path / "home"), "retention"])
    assert exc.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "retention.vacuum_hours is 1: the minimum is 168" in err and "time_travel_hours" in err
    assert not (tmp_path / "home").exists()
