"""Portability: every dataset and every widget query of every dashboard runs in Spark SQL (what Databricks
SQL runs, here over the same Delta tables) and in the local engine (DuckDB), and both return the same rows."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import pandas as pd
import pytest
from sqlglot import exp

from bakery.dashboards.engine import LocalEngine
from bakery.dashboards.model import dashboard_files, parse_dashboard
from bakery.dashboards.sql import parse_query, repoint, to_sql, widget_query

from .conftest import REPO_DASHBOARDS

FILES = dashboard_files(REPO_DASHBOARDS)


def _value(v: Any) -> Any:
    if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, pd.Timestamp | datetime):
        ts = pd.Timestamp(v)
        return (ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo else ts).isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float) or hasattr(v, "dtype"):
        return round(float(v), 6)
    return v


def rows(df: pd.DataFrame) -> list[tuple]:
    out = [tuple(_value(v) for v in r) for r in df.astype(object).itertuples(index=False)]
    return sorted(out, key=lambda r: tuple((x is None, str(x)) for x in r))


def spark_sql(engine: LocalEngine, ds, tree: exp.Query) -> str:
    """The query with each table as `delta.`<path>`` (the files Databricks would read by name)."""

    def target(ref):
        layer, name = engine.resolve(ref, ds)
        return exp.Table(
            this=exp.to_identifier(str(engine.table_path(layer, name)), quoted=True),
            db=exp.to_identifier("delta"),
        )

    return to_sql(repoint(tree, target), "spark")


@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_spark_and_local_engine_return_the_same_rows(spark, dash_settings, path):
    engine = LocalEngine(dash_settings)
    dash = parse_dashboard(path)
    checked = 0
    for ds in dash.datasets.values():
        tree = parse_query(ds.sql, dash.file, ds.name)
        queries = [("dataset", tree)] + [
            (w.name, widget_query(tree, q, dash.file))
            for w in dash.widgets()
            for q in w.queries
            if q.dataset == ds.name and not w.is_filter
        ]
        _, tables = engine.prepare(ds, dash.file)
        for label, query in queries:
            local = engine.run(engine.local_tree(query, ds), tables, dash.file, ds.name)
            remote = spark.sql(spark_sql(engine, ds, query)).toPandas()
            assert list(local.columns) == list(remote.columns), (ds.name, label)
            assert len(local) > 0, (ds.name, label)
            assert rows(local) == rows(remote), (ds.name, label)
            checked += 1
    assert checked >= len(dash.datasets) + 3
