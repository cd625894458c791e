"""`bakery status`: the contract keys and types, exact counts and dates, the JSON from the CLI."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from bakery.ops.status import _scan_profiles, collect_status, date_column, profile_tables, render_status
from tests.ops.helpers import tiny_settings, write

TODAY = date(2026, 11, 25)


@pytest.fixture(scope="module")
def status(status_lh):
    return collect_status(status_lh, status_lh.settings, today=TODAY)


def test_contract_keys_and_types(status):
    assert {"tables", "stores", "series", "forecasts", "models", "runs"} <= set(status)
    for table in status["tables"]:
        assert table["layer"] in {"bronze", "silver", "gold", "ops"}
        assert isinstance(table["name"], str) and isinstance(table["rows"], int)
        assert isinstance(table["version"], int)
        assert table["latest_date"] is None or date.fromisoformat(table["latest_date"])
    assert isinstance(status["stores"], int) and isinstance(status["series"], int)
    assert set(status["forecasts"]) >= {"latest_as_of", "series", "horizon_days"}
    assert status["models"] == []
    json.dumps(status)  # everything is plain JSON


def test_every_table_with_rows_and_latest_date(status):
    tables = {f"{t['layer']}.{t['name']}": t for t in status["tables"]}
    assert set(tables) == {
        "bronze.pos_transactions",
        "silver.stores",
        "silver.pos_transactions",
        "silver.weather",
        "gold.daily_sales",
        "ops.dq_results",
        "ops.quarantine",
        "ops.runs",
    }
    assert tables["gold.daily_sales"]["rows"] == 4
    assert tables["gold.daily_sales"]["latest_date"] == "2026-11-23"
    assert tables["silver.pos_transactions"]["latest_date"] == "2026-11-23"  # the source's event_time
    assert tables["bronze.pos_transactions"]["latest_date"] == "2026-11-21"  # arrival (_ingested_at)
    assert tables["silver.stores"]["latest_date"] is None and tables["silver.stores"]["rows"] == 2
    assert tables["ops.runs"]["rows"] == 2


def test_log_statistics_and_a_scan_agree(status_lh):
    from_log = profile_tables(status_lh, status_lh.settings)
    scanned = _scan_profiles(status_lh, status_lh.settings, dict(enumerate(status_lh.list_tables())))
    assert from_log == [scanned[i] for i in range(len(from_log))]


def test_tables_without_column_statistics_are_scanned(lh):
    write(lh, "gold", "daily_sales", [("a", date(2026, 1, 2))], "id string, date date")
    lh.spark.sql(
        f"ALTER TABLE {lh.identifier('gold', 'daily_sales')} "
        "SET TBLPROPERTIES ('delta.dataSkippingNumIndexedCols' = '0')"
    )
    write(lh, "gold", "daily_sales", [("b", date(2026, 3, 4))], "id string, date date")
    assert "date" not in lh.log_stats("gold", "daily_sales").low
    (profile,) = profile_tables(lh, lh.settings)
    assert (profile.rows, profile.first_date, profile.latest_date) == (2, date(2026, 1, 2), date(2026, 3, 4))
    assert profile.version == lh.version("gold", "daily_sales") == 2


def test_stores_series_and_absent_forecasts(status):
    assert status["stores"] == 2
    assert status["series"] == 2  # S01/P1 and S02/P1 sold; a zero or a closed day is not a sale
    assert status["forecasts"] == {"latest_as_of": None, "series": None, "horizon_days": None}


def test_runs_newest_first_with_utc_iso_times(status):
    runs = status["runs"]
    assert [r["job"] for r in runs] == ["pipeline", "ingest"]
    assert runs[0]["status"] == "failed" and "boom" in runs[0]["message"]
    assert runs[1]["status"] == "success" and runs[1]["seconds"] >= 0
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", r["started"]) for r in runs)


def test_freshness_quarantine_and_last_batch_quality(status):
    sources = {s["source"]: s for s in status["sources"]}
    assert sources["pos"]["latest_date"] == "2026-11-23" and sources["pos"]["age_days"] == 2
    assert sources["pos"]["status"] == "fresh"  # freshness_days 2
    assert sources["weather"]["status"] == "late" and sources["weather"]["age_days"] == 15
    assert sources["traffic"]["status"] == "missing"
    assert sources["events"]["status"] == "n/a"  # no freshness window in sources.yml
    assert status["quarantine"] == {
        "total": 2,
        "by_rule": [{"source": "pos", "rule": "file:empty", "rows": 2}],
    }
    dq = status["data_quality"]
    assert dq["batch_id"] == "b-new" and dq["expectations"] == 3
    assert dq["failed"] == {"CRITICAL": 0, "WARNING": 1, "INFO": 1}
    assert [f["severity"] for f in dq["failures"]] == ["WARNING", "INFO"]


def test_render_is_a_readable_table(status):
    text = render_status(status)
    assert "Tables" in text and "Last runs" in text
    assert re.search(r"gold\s+daily_sales\s+4\s+\d+\s+2026-11-23", text)
    assert "pipeline" in text and "Forecasts: none yet" in text


def test_forecasts_summary_from_the_newest_as_of(lh):
    write(
        lh,
        "gold",
        "forecasts",
        [
            (date(2026, 11, 23), date(2026, 11, 24), "S01", "P1", 1.0),
            (date(2026, 11, 24), date(2026, 11, 25), "S01", "P1", 1.0),
            (date(2026, 11, 24), date(2026, 12, 22), "S01", "P1", 1.0),
            (date(2026, 11, 24), date(2026, 11, 25), "S02", "P1", 1.0),
        ],
        "as_of date, date date, store_id string, product_id string, yhat double",
    )
    status = collect_status(lh, lh.settings, today=TODAY)
    assert status["forecasts"] == {"latest_as_of": "2026-11-24", "series": 2, "horizon_days": 28}
    assert status["stores"] == 0 and status["series"] == 0 and status["runs"] == []


def test_models_come_from_the_home_registry(lh):
    from mlflow.tracking import MlflowClient

    uri = lh.settings.mlflow_dir.as_uri()
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_registered_model("bakery_forecaster")
    for _ in range(2):
        client.create_model_version("bakery_forecaster", source=str(lh.settings.mlflow_dir / "artifacts"))
    client.set_registered_model_alias("bakery_forecaster", "champion", "2")
    models = collect_status(lh, lh.settings, today=TODAY)["models"]
    assert [(m["name"], m["version"], m["aliases"]) for m in models] == [
        ("bakery_forecaster", "2", ["champion"]),
        ("bakery_forecaster", "1", []),
    ]


def test_date_column_choice_and_config_errors(tmp_path):
    s = tiny_settings(tmp_path)
    assert (
        date_column(s, "bronze", "pos_transactions", {"timestamp": "string", "_ingested_at": "timestamp"})
        == "_ingested_at"
    )
    assert (
        date_column(s, "silver", "pos_transactions", {"timestamp": "timestamp", "local_date": "date"})
        == "timestamp"
    )
    assert date_column(s, "silver", "stores", {"store_id": "string"}) is None
    assert date_column(s, "gold", "features", {"date": "date", "y": "double"}) == "date"
    assert date_column(s, "ops", "runs", {"started": "timestamp"}) == "started"
    bad = tiny_settings(tmp_path, date_columns={"gold.features": "y"})
    with pytest.raises(ValueError, match=r"retention.date_columns\['gold.features'\] = 'y'"):
        date_column(bad, "gold", "features", {"date": "date", "y": "double"})
    exempt = tiny_settings(tmp_path, date_columns={"gold.features": None})
    assert date_column(exempt, "gold", "features", {"date": "date"}) is None


def test_cli_status_json(status_lh, capsys):
    from bakery.cli import main

    assert main(["--home", str(status_lh.settings.home), "status", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["stores"] == 2 and out["series"] == 2
    assert {t["name"] for t in out["tables"]} >= {"daily_sales", "stores", "runs"}
    assert out["runs"][0]["started"].endswith("+00:00")
