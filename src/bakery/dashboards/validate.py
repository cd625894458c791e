"""`bakery dashboards validate`: every problem of every dashboard file, each naming the file, the dataset and
the column: a file that is not a dashboard, SQL that does not parse or writes, a table or column that does
not exist in the home, a widget field that no query of its dataset returns."""

from __future__ import annotations

from pathlib import Path

from bakery.dashboards.engine import LocalEngine
from bakery.dashboards.model import DashboardError, dashboard_files, parse_dashboard
from bakery.dashboards.sql import columns_used, parse_field

_LAKEVIEW_COLUMNS = {"associative_filter_predicate_group"}  # Databricks' own column in filter queries


def validate_file(path: Path, engine: LocalEngine) -> list[DashboardError]:
    try:
        dash = parse_dashboard(path)
    except DashboardError as exc:
        return [exc]
    problems: list[DashboardError] = []
    columns: dict[str, set[str]] = {}
    for ds in dash.datasets.values():
        try:
            columns[ds.name] = set(engine.dataset(ds, dash.file, limit=0).columns)
        except DashboardError as exc:
            problems.append(exc)
    for w in dash.widgets():
        if w.type == "text":
            continue
        names: set[str] = set()
        for q in w.queries:
            if q.dataset not in dash.datasets:
                problems.append(
                    DashboardError(
                        dash.file, f"widget {w.name!r} names a dataset that does not exist", q.dataset
                    )
                )
                continue
            names.update(f.name for f in q.fields)
            for f in q.fields:
                try:
                    node = parse_field(f.expression, dash.file, q.dataset)
                except DashboardError as exc:
                    problems.append(exc)
                    continue
                known = columns.get(q.dataset)
                for col in columns_used(node):
                    if known is not None and col not in known and col not in _LAKEVIEW_COLUMNS:
                        problems.append(
                            DashboardError(
                                dash.file,
                                f"widget {w.name!r}: the dataset returns no such column",
                                q.dataset,
                                col,
                            )
                        )
        dataset = w.queries[0].dataset if w.queries else None
        for enc in w.encoded_fields():
            if enc["fieldName"] not in names:
                problems.append(
                    DashboardError(
                        dash.file,
                        f"widget {w.name!r} draws a field no query returns",
                        dataset,
                        enc["fieldName"],
                    )
                )
    return problems


def validate_dir(directory: Path, engine: LocalEngine) -> tuple[list[Path], list[DashboardError]]:
    files = dashboard_files(directory)
    return files, [p for f in files for p in validate_file(f, engine)]
