"""From a dashboard file to tiles: each widget's query run by the local engine and drawn with Plotly.

A tile never raises: a dataset that fails, a field no query returns or a widget type this renderer does
not draw becomes a tile saying so (naming the file and dataset), and the other tiles still render."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from bakery.dashboards.engine import LocalEngine
from bakery.dashboards.model import Dashboard, DashboardError, Widget
from bakery.dashboards.sql import Condition, filtered, widget_query

log = logging.getLogger(__name__)
CHARTS = ("line", "bar", "area", "scatter", "pie")
DRAWN = (*CHARTS, "counter", "table", "text")


@dataclass
class Tile:
    widget: Widget
    kind: str  # figure | counter | table | text | error | unsupported
    title: str
    figure: dict[str, Any] | None = None
    points: int = 0
    value: Any = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    columns: list[tuple[str, str]] = field(default_factory=list)
    message: str = ""

    @property
    def has_data(self) -> bool:
        if self.kind == "counter":
            return self.value is not None and not pd.isna(self.value)
        if self.kind == "table":
            return bool(self.rows)
        if self.kind == "figure":
            return self.points > 0
        return self.kind == "text"


def title_of(dash: Dashboard) -> str:
    """The dashboard's title: the first heading of its first text widget (as it reads in Databricks)."""
    for w in dash.widgets():
        if w.type == "text":
            for line in w.text.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return dash.slug


def filter_column(w: Widget, dataset: str) -> str | None:
    """The dataset column a filter widget filters on (None when the filter does not apply to it)."""
    for q in w.queries:
        if q.dataset == dataset and q.fields:
            return q.fields[0].expression.strip("`")
    return None


def conditions(dash: Dashboard, dataset: str, selections: Mapping[str, Any]) -> list[Condition]:
    """The filters' current values as conditions on one dataset. A multi or single select holds a value or
    a list (empty: no filter); a date range holds [start, end] with either end open."""
    out = []
    for w in dash.filters():
        value = selections.get(w.name)
        column = filter_column(w, dataset)
        if column is None or value in (None, [], ""):
            continue
        if w.type == "filter-date-range-picker":
            low, high = (list(value) + [None, None])[:2]
            if low or high:
                out.append(
                    Condition(
                        column, low=str(low)[:10] if low else None, high=str(high)[:10] if high else None
                    )
                )
        else:
            values = tuple(sorted(value, key=str)) if isinstance(value, list | tuple) else (value,)
            out.append(Condition(column, values=values))
    return out


def filter_choices(engine: LocalEngine, dash: Dashboard) -> dict[str, list[Any]]:
    """Each filter's choices: the distinct values of its column over the datasets it applies to (for a date
    range, the first and last day). A dataset that fails gives no choices; its tiles show the error."""
    out: dict[str, list[Any]] = {}
    for w in dash.filters():
        values: set[Any] = set()
        for q in w.queries:
            ds = dash.datasets.get(q.dataset)
            column = filter_column(w, q.dataset)
            if ds is None or column is None:
                continue
            try:
                df = engine.distinct(ds, dash.file, column)
            except DashboardError:
                continue
            values.update(df[column].dropna().tolist())
        ordered = sorted(values, key=str)
        if w.type == "filter-date-range-picker":
            ordered = [_day(ordered[0]), _day(ordered[-1])] if ordered else []
        out[w.name] = ordered
    return out


def _day(v: Any) -> str:
    return (v.date() if isinstance(v, pd.Timestamp) else v).isoformat() if isinstance(v, date) else str(v)


def widget_frame(
    engine: LocalEngine, dash: Dashboard, w: Widget, selections: Mapping[str, Any]
) -> pd.DataFrame:
    """The rows of a widget's main query over its filtered dataset; DashboardError naming file, dataset and
    field when a field is missing or the SQL fails."""
    q = w.queries[0]
    ds = dash.datasets.get(q.dataset)
    if ds is None:
        raise DashboardError(dash.file, f"widget {w.name!r} names no dataset of this file", q.dataset)
    names = {f.name for f in q.fields}
    for enc in w.encoded_fields():
        if enc["fieldName"] not in names:
            raise DashboardError(
                dash.file,
                f"widget {w.name!r} draws a field its query does not return",
                q.dataset,
                enc["fieldName"],
            )
    conds = tuple(conditions(dash, ds.name, selections))
    x = (w.encodings.get("x") or {}).get("fieldName")
    order = (x,) if x and w.type in CHARTS else ()

    def build():
        tree, tables = engine.prepare(ds, dash.file)
        base = filtered(engine.local_tree(tree, ds), conds)
        return widget_query(base, q, dash.file, order), tables

    sql, tables = engine.compiled(("widget", dash.file, ds, q, conds, order), build)
    return engine.run_sql(sql, tables, dash.file, ds.name)


def _y_fields(w: Widget) -> list[tuple[str, str]]:
    y = w.encodings.get("y") or {}
    items = y.get("fields") if "fields" in y else [y]
    return [(i["fieldName"], i.get("displayName", i["fieldName"])) for i in items if i]


def _list(series: pd.Series) -> list[Any]:
    return [_plain(v) for v in series.tolist()]


def chart_figure(w: Widget, df: pd.DataFrame) -> dict[str, Any]:
    """A Plotly figure as the plain dict the browser receives (building graph objects validates every
    property, which cost most of a cached render)."""
    x = w.encodings.get("x") or {}
    color = (w.encodings.get("color") or {}).get("fieldName")
    categorical = (x.get("scale") or {}).get("type") == "categorical"
    xs = df[x["fieldName"]].astype(str) if categorical else df[x["fieldName"]]
    ys = _y_fields(w)
    data = []
    for name, label in ys:
        groups = df.groupby(color, sort=True) if color else [(label, df)]
        for key, part in groups:
            trace: dict[str, Any] = {"x": _list(xs.loc[part.index]), "y": _list(part[name]), "name": str(key)}
            if w.type == "bar":
                trace["type"] = "bar"
            else:
                trace |= {"type": "scatter", "mode": "lines+markers" if len(part) < 40 else "lines"}
                if "lower" in name or "upper" in name:
                    trace["line"] = {"dash": "dot"}
            data.append(trace)
    layout = {
        "height": 320,
        "margin": {"l": 40, "r": 10, "t": 10, "b": 40},
        "barmode": "group",
        "legend": {"orientation": "h", "y": -0.2},
        "xaxis": {
            "title": {"text": x.get("displayName", x.get("fieldName"))},
            **({"type": "category"} if categorical else {}),
        },
        "yaxis": {"title": {"text": ys[0][1] if len(ys) == 1 else ""}},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
    }
    return {"data": data, "layout": layout}


def _plain(v: Any) -> Any:
    if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat(sep=" ", timespec="minutes")
    if isinstance(v, date):
        return v.isoformat()
    return v.item() if hasattr(v, "item") else v


def tile(engine: LocalEngine, dash: Dashboard, w: Widget, selections: Mapping[str, Any]) -> Tile:
    if w.type == "text":
        return Tile(w, "text", "", message=w.text)
    if w.type not in DRAWN:
        return Tile(w, "unsupported", w.title, message=f"widget type {w.type!r} is not supported here")
    if not w.queries:
        return Tile(w, "error", w.title, message=f"file {dash.file}: widget {w.name!r} has no query")
    try:
        df = widget_frame(engine, dash, w, selections)
        if w.type == "counter":
            col = w.encodings["value"]["fieldName"]
            return Tile(w, "counter", w.title, value=_plain(df[col].iloc[0]) if len(df) else None)
        if w.type == "table":
            cols = [
                (c["fieldName"], c.get("displayName", c["fieldName"])) for c in w.encodings.get("columns", [])
            ]
            rows = [{k: _plain(v) for k, v in r.items()} for r in df.to_dict("records")]
            return Tile(w, "table", w.title, rows=rows, columns=cols)
        return Tile(
            w, "figure", w.title, figure=chart_figure(w, df), points=int(df.notna().any(axis=1).sum())
        )
    except DashboardError as exc:
        log.warning("dashboard tile %s: %s", w.name, exc)
        return Tile(w, "error", w.title, message=str(exc))


def render(
    engine: LocalEngine, dash: Dashboard, selections: Mapping[str, Any] | None = None
) -> list[tuple[str, list[Tile]]]:
    """Every page's tiles (filters excluded: the caller draws them as controls)."""
    selections = selections or {}
    return [
        (p.display_name, [tile(engine, dash, w, selections) for w in p.widgets if not w.is_filter])
        for p in dash.pages
    ]
