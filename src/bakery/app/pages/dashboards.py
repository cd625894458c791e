"""Cuadros de mando (analysts and admins): the SQL dashboards of dashboards/*.lvdash.json, the same files the
bundle deploys to Databricks SQL, drawn here with each dataset's SQL run by the local engine (DuckDB over the
Delta tables). Filters come from the files' filter widgets; a tile that fails says why, the others render."""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from typing import Any

from dash import ALL, Input, Output, dcc, html
from dash import ctx as dash_ctx

from bakery.app.auth import STAFF, Principal
from bakery.app.context import AppContext
from bakery.app.i18n import fmt_num, t
from bakery.app.pages import Page
from bakery.app.pages.common import field, graph, kpi, notice, page_header, prebuilt, secured, table
from bakery.dashboards.engine import LocalEngine
from bakery.dashboards.model import Dashboard, DashboardError, dashboard_files, default_dir, parse_dashboard
from bakery.dashboards.render import Tile, filter_choices, render, title_of
from bakery.dashboards.sql import warm

log = logging.getLogger(__name__)
P = "dashboards"
# Rows a table tile shows: a page of HTML rows costs the browser and the server per row (the export has all).
TABLE_ROWS = 100
_ENGINES: dict[int, LocalEngine] = {}
_LOCK = threading.Lock()
# Rendered answers as the JSON the browser receives, under (dashboard, filters, language, engine signature):
# a repeated load serializes one dict instead of building and walking every tile's components again.
_ANSWERS: OrderedDict[tuple, Any] = OrderedDict()
_ANSWERS_MAX = 128


def _memo(key: tuple, build: Any) -> Any:
    with _LOCK:
        if key in _ANSWERS:
            _ANSWERS.move_to_end(key)
            return _ANSWERS[key]
    value = prebuilt(build())
    with _LOCK:
        _ANSWERS[key] = value
        if len(_ANSWERS) > _ANSWERS_MAX:
            _ANSWERS.popitem(last=False)
    return value


def _key(ctx: AppContext, dash: Dashboard, *parts: Any) -> tuple:
    eng = engine(ctx)
    return (
        id(ctx),
        dash.file,
        json.dumps(dash.raw, sort_keys=True),
        eng.signature(dash.file, dash.datasets.values()),
        *parts,
    )


def engine(ctx: AppContext) -> LocalEngine:
    """One engine per app (its DuckDB connection and result cache live as long as the app)."""
    with _LOCK:
        if id(ctx) not in _ENGINES:
            _ENGINES[id(ctx)] = LocalEngine(ctx.settings)
        return _ENGINES[id(ctx)]


def load(ctx: AppContext) -> tuple[list[Dashboard], list[str]]:
    """The dashboards and, for each file that is not one, its error (shown, never raised)."""
    good, bad = [], []
    directory = default_dir(ctx.settings)
    for path in dashboard_files(directory) if directory.is_dir() else []:
        try:
            good.append(parse_dashboard(path))
        except DashboardError as exc:
            bad.append(str(exc))
    return good, bad


def layout(ctx: AppContext, principal: Principal, lang: str, query: dict[str, list[str]]) -> Any:
    dashboards, bad = load(ctx)
    options = [{"label": title_of(d), "value": d.slug} for d in dashboards]
    chosen = (query.get("d") or [None])[0]
    value = chosen if chosen in [o["value"] for o in options] else (options[0]["value"] if options else None)
    return html.Div(
        [
            page_header(t("dsh.title", lang)),
            html.P(t("dsh.help", lang), className="muted"),
            *[notice(b, kind="error") for b in bad],
            field(
                t("dsh.choose", lang),
                dcc.Dropdown(id=f"{P}-choice", options=options, value=value, clearable=False),
            ),
            html.Div(id=f"{P}-filters", className="controls dash-filters"),
            html.Div(id=f"{P}-tiles"),
        ]
    )


def filter_controls(ctx: AppContext, slug: str | None) -> Any:
    dash = next((d for d in load(ctx)[0] if d.slug == slug), None)
    if dash is None:
        return []
    return _memo(_key(ctx, dash, "filters"), lambda: _filter_controls(ctx, dash))


def _filter_controls(ctx: AppContext, dash: Dashboard) -> list[Any]:
    choices = filter_choices(engine(ctx), dash)
    out = []
    for w in dash.filters():
        values = choices.get(w.name, [])
        if w.type == "filter-date-range-picker":
            control = dcc.DatePickerRange(
                id={"type": f"{P}-range", "name": w.name},
                min_date_allowed=values[0] if values else None,
                max_date_allowed=values[1] if values else None,
                start_date=None,
                end_date=None,
                clearable=True,
            )
        else:
            control = dcc.Dropdown(
                id={"type": f"{P}-select", "name": w.name},
                options=[{"label": str(v), "value": v} for v in values],
                multi=w.type == "filter-multi-select",
                value=[] if w.type == "filter-multi-select" else None,
            )
        out.append(field(w.title, control))
    return out


def _number(v: Any, lang: str) -> str:
    return (
        fmt_num(v, lang, 2 if isinstance(v, float) and abs(v) < 1000 else 0)
        if isinstance(v, int | float)
        else str(v)
    )


def tile_component(tile: Tile, key: str, lang: str) -> Any:
    width = max(1, min(6, int(tile.widget.position.get("width", 6))))
    title = [html.H3(tile.title)] if tile.title else []
    if tile.kind == "text":
        lines = tile.message.splitlines()
        body: list[Any] = [
            html.P(line.lstrip("# "), className="muted" if i else "dash-heading")
            for i, line in enumerate(lines)
        ]
    elif tile.kind == "counter":
        body = [kpi(tile.title, _number(tile.value, lang) if tile.value is not None else "—")]
        title = []
    elif tile.kind == "table":
        numeric = [k for k, _ in tile.columns if any(isinstance(r.get(k), int | float) for r in tile.rows)]
        body = [table(tile.rows[:TABLE_ROWS], tile.columns, lang=lang, numeric=numeric, digits=2)]
        if len(tile.rows) > TABLE_ROWS:
            body.append(
                html.P(t("dsh.rows", lang, shown=TABLE_ROWS, total=len(tile.rows)), className="muted")
            )
    elif tile.kind == "figure":
        body = [graph(f"{P}-g-{key}", tile.figure, lang=lang)]
    elif tile.kind == "unsupported":
        body = [notice(t("dsh.unsupported", lang, type=tile.widget.type), kind="warn")]
    else:
        body = [notice(tile.message, kind="error")]
    return html.Section(
        title + body,
        className=f"card dash-tile dash-{tile.kind}",
        id=f"{P}-tile-{key}",
        style={"gridColumn": f"span {width}"},
    )


def tiles_view(ctx: AppContext, lang: str, slug: str | None, selections: dict[str, Any]) -> Any:
    dash = next((d for d in load(ctx)[0] if d.slug == slug), None)
    if dash is None:
        return notice(t("dsh.none", lang))
    chosen = json.dumps(selections, sort_keys=True, default=str)
    return _memo(_key(ctx, dash, "tiles", lang, chosen), lambda: _tiles_view(ctx, lang, dash, selections))


def _tiles_view(ctx: AppContext, lang: str, dash: Dashboard, selections: dict[str, Any]) -> Any:
    parts = []
    for page, tiles in render(engine(ctx), dash, selections):
        if len(dash.pages) > 1:
            parts.append(html.H3(page))
        parts.append(
            html.Div([tile_component(tl, tl.widget.name, lang) for tl in tiles], className="dash-grid")
        )
    return html.Div(parts, **{"data-dashboard": dash.slug})


def register(app: Any, ctx: AppContext) -> None:
    # SQL dialects and the DuckDB connection are ready before the first user asks, without delaying the start.
    threading.Thread(target=lambda: (warm(), engine(ctx)), name="dashboards-warm", daemon=True).start()

    @app.callback(Output(f"{P}-filters", "children"), Input(f"{P}-choice", "value"))
    @secured(STAFF)
    def _filters(principal, lang, slug):
        return filter_controls(ctx, slug)

    @app.callback(
        Output(f"{P}-tiles", "children"),
        Input(f"{P}-choice", "value"),
        Input({"type": f"{P}-select", "name": ALL}, "value"),
        Input({"type": f"{P}-range", "name": ALL}, "start_date"),
        Input({"type": f"{P}-range", "name": ALL}, "end_date"),
    )
    @secured(STAFF)
    def _tiles(principal, lang, slug, selects, starts, ends):
        selections: dict[str, Any] = {}
        ids = dash_ctx.inputs_list if dash_ctx else []
        if len(ids) == 4:
            for item, value in zip(ids[1], selects, strict=False):
                selections[item["id"]["name"]] = value
            for item, start, end in zip(ids[2], starts, ends, strict=False):
                selections[item["id"]["name"]] = [start, end]
        return tiles_view(ctx, lang, slug, selections)


PAGE = Page("/dashboards", STAFF, "nav.sql_dashboards", layout, register)
