"""`bakery dashboards validate` and the checks behind it: the repository's dashboards are valid over a home
with the tables they read, and each kind of mistake is named by file, dataset and column (exit 3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bakery.dashboards.engine import LocalEngine
from bakery.dashboards.model import DashboardError, dashboard_files
from bakery.dashboards.sql import parse_query
from bakery.dashboards.validate import validate_dir

from .conftest import REPO_DASHBOARDS

TITLES = {
    "Bakery · Forecast accuracy",
    "Bakery · Sales and forecasts",
    "Bakery · Data quality and freshness",
    "Bakery · Stock, waste and stock-outs",
    "Bakery · Waste and lost sales",
}


def _edit(path: Path, fn) -> None:
    raw = json.loads(path.read_text())
    fn(raw)
    path.write_text(json.dumps(raw))


def test_repository_dashboards_are_valid_and_complete(dash_settings):
    from bakery.dashboards.model import parse_dashboard
    from bakery.dashboards.render import title_of

    files, problems = validate_dir(REPO_DASHBOARDS, LocalEngine(dash_settings))
    assert problems == []
    assert {title_of(parse_dashboard(f)) for f in files} == TITLES
    for f in files:
        for ds in parse_dashboard(f).datasets.values():
            assert ds.schema in ("gold", "silver", "ops"), (
                f.name,
                ds.name,
            )  # the layer, never a hard-coded catalog
            assert "bakery." not in ds.sql and "delta.`" not in ds.sql, (f.name, ds.name)


def test_validate_cli_passes_then_exits_3_naming_file_dataset_and_column(bakery_cli, dash_settings, dash_dir):
    ok = bakery_cli(dash_settings.home, "dashboards", "validate", "--dir", str(dash_dir))
    assert ok.returncode == 0, ok.stderr
    assert "5 dashboard file(s) valid" in ok.stdout

    def bad_sql(raw):
        raw["datasets"][0]["queryLines"] = ["SELECT store_id, FROM WHERE"]

    def missing_column(raw):
        raw["datasets"][0]["queryLines"] = ["SELECT no_such_column FROM inventory_daily"]

    def missing_field(raw):
        widget = next(
            i["widget"]
            for i in raw["pages"][0]["layout"]
            if i["widget"].get("spec", {}).get("widgetType") == "table"
        )
        widget["spec"]["encodings"]["columns"][0]["fieldName"] = "ghost_field"

    _edit(dash_dir / "sales_forecasts.lvdash.json", bad_sql)
    _edit(dash_dir / "stock_waste.lvdash.json", missing_column)
    _edit(dash_dir / "data_quality.lvdash.json", missing_field)
    (dash_dir / "broken.lvdash.json").write_text("{not json")
    bad = bakery_cli(dash_settings.home, "dashboards", "validate", "--dir", str(dash_dir))
    assert bad.returncode == 3
    err = bad.stderr
    assert "file sales_forecasts.lvdash.json, dataset 'sales': SQL does not parse" in err
    assert "file stock_waste.lvdash.json, dataset 'inventory', column 'no_such_column'" in err
    assert "file data_quality.lvdash.json, dataset 'freshness', column 'ghost_field'" in err
    assert "file broken.lvdash.json: not a readable JSON file" in err
    assert "forecast_accuracy" not in err


def test_missing_table_is_named(dash_settings, dash_dir):
    import shutil

    shutil.rmtree(dash_settings.tables_dir / "gold" / "backtest_results")
    _, problems = validate_dir(dash_dir, LocalEngine(dash_settings))
    assert [(p.file, p.dataset) for p in problems] == [("forecast_accuracy.lvdash.json", "accuracy")]
    assert "table gold.backtest_results does not exist" in str(problems[0])


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO daily_sales SELECT * FROM daily_sales",
        "MERGE INTO daily_sales t USING daily_sales s ON t.date = s.date WHEN MATCHED THEN DELETE",
        "DROP TABLE daily_sales",
        "DELETE FROM daily_sales",
        "UPDATE daily_sales SET revenue = 0",
        "CREATE TABLE x AS SELECT 1",
        "SELECT 1; DROP TABLE daily_sales",
        "WITH t AS (SELECT 1) INSERT INTO daily_sales SELECT * FROM t",
    ],
)
def test_only_select_runs(sql, dash_settings, dash_dir):
    with pytest.raises(DashboardError, match="SELECT|refused") as err:
        parse_query(sql, "x.lvdash.json", "d")
    assert "file x.lvdash.json, dataset 'd'" in str(err.value)

    def write(raw):
        raw["datasets"][0]["queryLines"] = [sql]

    _edit(dash_dir / "sales_forecasts.lvdash.json", write)
    before = sorted(
        p.name for p in (dash_settings.tables_dir / "gold" / "daily_sales" / "_delta_log").iterdir()
    )
    _, problems = validate_dir(dash_dir, LocalEngine(dash_settings))
    assert any(p.dataset == "sales" and ("SELECT" in p.message) for p in problems)
    after = sorted(
        p.name for p in (dash_settings.tables_dir / "gold" / "daily_sales" / "_delta_log").iterdir()
    )
    assert before == after


def test_every_file_is_in_the_export_shape():
    """The keys Databricks' export writes: datasets with queryLines, pages with layout items holding a widget
    and a position; widgets with queries over a named dataset and a versioned spec."""
    for f in dashboard_files(REPO_DASHBOARDS):
        raw = json.loads(f.read_text())
        names = {d["name"] for d in raw["datasets"]}
        assert all(isinstance(d["queryLines"], list) for d in raw["datasets"])
        for page in raw["pages"]:
            for item in page["layout"]:
                assert set(item["position"]) == {"x", "y", "width", "height"}
                w = item["widget"]
                if "spec" in w:
                    assert isinstance(w["spec"]["version"], int) and w["spec"]["widgetType"]
                    assert {q["query"]["datasetName"] for q in w["queries"]} <= names


def test_a_schema_outside_the_layers_reads_nothing(dash_settings, dash_dir):
    def escape(raw):
        raw["datasets"][0]["queryLines"] = ["SELECT * FROM `../gold`.daily_sales"]

    _edit(dash_dir / "sales_forecasts.lvdash.json", escape)
    _, problems = validate_dir(dash_dir, LocalEngine(dash_settings))
    assert any(p.dataset == "sales" and "does not exist" in p.message for p in problems)


def test_a_select_cannot_read_files_outside_the_tables(dash_settings, dash_dir):
    def read_file(raw):
        raw["datasets"][0]["queryLines"] = ["SELECT * FROM read_text('/etc/hostname')"]

    _edit(dash_dir / "sales_forecasts.lvdash.json", read_file)
    engine = LocalEngine(dash_settings)
    _, problems = validate_dir(dash_dir, engine)
    assert [p.dataset for p in problems] == ["sales"]  # not a table of the home
    with pytest.raises(DashboardError, match="disabled"):  # and DuckDB itself refuses, whatever the SQL
        engine.run_sql("SELECT * FROM read_text('/etc/hostname')", {}, "f.lvdash.json", "d")
