"""Forecast page: tomorrow's, next week's and next 28 days' forecast per product, with intervals and reasons."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd
from dash import Input, Output, dcc, html

from bakery.app.auth import ALL_ROLES, Principal, check_store
from bakery.app.context import AppContext
from bakery.app.figures import chain_figure, forecast_figure
from bakery.app.freshness import ForecastStatus, current_status
from bakery.app.i18n import fmt_date, fmt_num, long_date, t
from bakery.app.pages import Page
from bakery.app.pages.common import (
    CHAIN,
    card,
    field,
    graph,
    kpi,
    notice,
    page_header,
    prebuilt,
    secured,
    store_picker,
)
from bakery.app.summaries import (
    VIEWS,
    component_frame,
    daily_totals,
    forecast_lines,
    lines_by_store,
    window,
)
from bakery.app.units import resolve_units, same_unit, unit_label
from bakery.tables import BAKE_PLAN, DAILY_SALES, FORECASTS, PRODUCTS

P = "forecast"


def view_options(status: ForecastStatus | None, lang: str) -> list[dict[str, str]]:
    """The horizon choices: "Mañana" (or "Hoy" when the forecast's first day is today), "Próxima semana"...
    while the forecast is current; "1 día", "7 días"... when it is stale, its first day being long gone."""
    stale = status is not None and status.stale
    today = status is not None and status.as_of + timedelta(days=1) == status.run_date
    labels = {"tomorrow": "fc.view.today" if today else "fc.view.tomorrow"}
    return [
        {"label": t(f"fc.view.d{VIEWS[v]}" if stale else labels.get(v, f"fc.view.{v}"), lang), "value": v}
        for v in ("tomorrow", "week", "month")
    ]


def horizon_text(as_of: date, view: str, today: date, lang: str) -> str:
    """The days a view covers, counted from the forecast's own as_of (D+1 = as_of + 1): "Previsión para mañana,
    martes 8 de diciembre" (or "hoy") when that is what the first day is, the plain date with its year otherwise."""
    start, end = as_of + timedelta(days=1), as_of + timedelta(days=VIEWS[view])
    relative = {today: "today", today + timedelta(days=1): "tomorrow"}.get(start)
    year = relative is None
    if start == end:
        return t(f"fc.for.{relative or 'day'}", lang, day=long_date(start, lang, year=year))
    return t(
        f"fc.for.range_{relative}" if relative else "fc.for.range",
        lang,
        start=long_date(start, lang, year=year and start.year != end.year),
        end=long_date(end, lang, year=year),
    )


def status_notices(ctx: AppContext, status: ForecastStatus | None, lang: str) -> list[Any]:
    """The stale banner and the incomplete-data banner, in plain words (nothing when the forecast is current)."""
    if status is None:
        return []
    out = []
    if status.stale:
        msg = t("fc.stale", lang, as_of=fmt_date(status.as_of, lang), days=status.days_old)
        out.append(notice(msg, "error", id=f"{P}-stale"))
    if status.degraded:
        table = ctx.serving.stores()
        names = dict(zip(table["store_id"], table["name"], strict=True)) if len(table) else {}
        known = [(s, d) for s, d in status.lagging if d is not None]
        missing = [s for s, d in status.lagging if d is None]
        if known:
            which = ", ".join(str(names.get(s) or s) for s, _ in known)
            last = fmt_date(max(d for _, d in known), lang)
            out.append(notice(t("fc.degraded", lang, stores=which, last=last), "warn", id=f"{P}-degraded"))
        if missing:
            which = ", ".join(str(names.get(s) or s) for s in missing)
            out.append(notice(t("fc.degraded_none", lang, stores=which), "warn", id=f"{P}-degraded-none"))
    return out


def _scope(principal: Principal, store_id: str | None) -> list[str] | None:
    """The stores a status is judged on: the chosen one, or every visible one for the chain."""
    if store_id == CHAIN:
        return None if principal.all_stores else sorted(principal.stores)
    return [store_id] if store_id else []


def layout(ctx: AppContext, principal: Principal, lang: str, query: dict[str, list[str]]) -> Any:
    status = current_status(ctx.serving, ctx.conf, None if principal.all_stores else sorted(principal.stores))
    view = dcc.RadioItems(
        id=f"{P}-view",
        value="tomorrow",
        inline=True,
        className="segmented",
        options=view_options(status, lang),
    )
    return html.Div(
        [
            page_header(t("fc.title", lang)),
            html.Div(
                [
                    store_picker(
                        P, ctx, principal, lang, chain=True, value=(query.get("store") or [None])[0]
                    ),
                    field(t("common.horizon", lang), view),
                    field(
                        t("common.product", lang),
                        dcc.Dropdown(
                            id=f"{P}-product", clearable=False, placeholder=t("common.choose", lang)
                        ),
                    ),
                ],
                className="controls",
            ),
            html.Div(id=f"{P}-summary", className="summary"),
            card(None, graph(f"{P}-graph", lang=lang)),
            card(None, html.Div(id=f"{P}-table")),
        ]
    )


def product_choices(
    ctx: AppContext, store_id: str | None, current: str | None, lang: str = "es"
) -> tuple[list[dict], str | None]:
    """The store's products by name; the chosen one kept, else the top of the first day's product table (the most
    to bake)."""
    snap = ctx.serving.forecast_snapshot()
    names = ctx.serving.product_names()
    if snap is None or not store_id:
        return [], None
    if store_id == CHAIN:
        ids = sorted({p for df in snap.by_store.values() for p in df["product_id"].unique()})
    else:
        df = snap.by_store.get(store_id)
        ids = sorted(df["product_id"].unique()) if df is not None else []
    options = sorted(({"label": names.get(p, p), "value": p} for p in ids), key=lambda o: str(o["label"]))
    if current in ids:
        return options, current
    top = next((ln.product_id for ln in ordered_lines(ctx, store_id, "tomorrow", lang)), None)
    return options, top if top in ids else (ids[0] if ids else None)


def chain_forecasts(ctx: AppContext) -> pd.DataFrame:
    """Champion forecasts summed over every store, per product and day (intervals combined)."""
    snap = ctx.serving.forecast_snapshot()
    if snap is None:
        return pd.DataFrame()

    def load(_v: dict) -> pd.DataFrame:
        rows = pd.concat([df[df["role"] == "champion"] for df in snap.by_store.values()], ignore_index=True)
        rows["lo2"] = (rows["yhat"] - rows["yhat_lower"]).clip(lower=0) ** 2
        rows["hi2"] = (rows["yhat_upper"] - rows["yhat"]).clip(lower=0) ** 2
        g = rows.groupby(["product_id", "date", "horizon"], as_index=False).agg(
            yhat=("yhat", "sum"),
            lo2=("lo2", "sum"),
            hi2=("hi2", "sum"),
            model_version=("model_version", "first"),
        )
        g["yhat_lower"] = (g["yhat"] - g["lo2"] ** 0.5).clip(lower=0)
        g["yhat_upper"] = g["yhat"] + g["hi2"] ** 0.5
        g["components"] = None
        g["fallback_reason"] = None
        g["role"] = "champion"
        return g.drop(columns=["lo2", "hi2"])

    return ctx.serving.cached(("chain_forecasts",), (FORECASTS,), load)


def champion_rows(ctx: AppContext) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every store's champion forecasts of the latest run and their components as numeric columns."""

    def load(_v: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
        snap = ctx.serving.forecast_snapshot()
        if snap is None:
            return pd.DataFrame(), pd.DataFrame()
        rows = pd.concat([df[df["role"] == "champion"] for df in snap.by_store.values()], ignore_index=True)
        return rows, component_frame(rows)

    return ctx.serving.cached(("champion_rows",), (FORECASTS,), load)


def all_lines(ctx: AppContext, view: str, lang: str) -> dict[str, list]:
    """Forecast lines of every store (and the chain) for a view: computed once per table version."""

    def load(_v: dict) -> dict[str, list]:
        rows, comps = champion_rows(ctx)
        names = ctx.serving.product_names()
        recent = ctx.serving.recent_sales()
        history = (
            pd.concat(recent.values(), ignore_index=True)
            if recent
            else pd.DataFrame(columns=["store_id", "product_id", "date", "quantity_sold"])
        )
        lines = lines_by_store(rows, history, names, view, lang, comps) if len(rows) else {}
        chain_hist = history.groupby(["product_id", "date"], as_index=False)["quantity_sold"].sum(min_count=1)
        lines[CHAIN] = (
            forecast_lines(chain_forecasts(ctx), chain_hist, names, view, lang) if len(rows) else []
        )
        return lines

    return ctx.serving.cached(("forecast_lines", view, lang), (FORECASTS, DAILY_SALES, PRODUCTS), load)


def plan_quantities(ctx: AppContext, store_id: str) -> dict[str, float]:
    """product_id -> quantity to bake from gold.bake_plan, when the plan was made from the forecasts on show (same
    as_of); summed over the stores for the chain. Empty when there is no such plan."""
    snap = ctx.serving.forecast_snapshot()
    if snap is None:
        return {}

    def load(_v: dict) -> dict[str, float]:
        plan = ctx.serving.bake_quantities(snap.as_of)
        if store_id != CHAIN:
            plan = plan[plan["store_id"] == store_id]
        return {str(k): float(q) for k, q in plan.groupby("product_id")["quantity"].sum().items()}

    return ctx.serving.cached(("plan_quantities", store_id, snap.as_of), (FORECASTS, BAKE_PLAN), load)


def ordered_lines(ctx: AppContext, store_id: str, view: str, lang: str) -> list:
    """The product table's order: most to bake first (gold.bake_plan), products the plan lacks after them by
    forecast; by forecast alone when the store has no plan for these forecasts."""
    plan = plan_quantities(ctx, store_id)
    lines = all_lines(ctx, view, lang).get(store_id, [])
    return sorted(
        lines,
        key=lambda ln: (ln.product_id in plan, plan.get(ln.product_id, 0.0), ln.forecast),
        reverse=True,
    )


def prewarm(ctx: AppContext, lang: str) -> None:
    """Compute every view's lines in the default language before the first visitor asks."""
    for view in ("tomorrow", "week", "month"):
        all_lines(ctx, view, lang)


def product_table(lines: list, lang: str, plan: dict[str, float] | None = None) -> Any:
    """Products in the given order (ordered_lines: what to bake most of leads), each with its planned bake under
    its name when there is a plan. Three columns so that it fits a phone: the interval sits under the forecast,
    "Why" keeps the rest."""
    plan = plan or {}
    if not lines:
        return notice(t("common.none", lang))
    head = html.Thead(
        html.Tr(
            [
                html.Th(t("common.product", lang)),
                html.Th(t("fc.col.forecast", lang), className="num"),
                html.Th(t("fc.col.why", lang)),
            ]
        )
    )
    body = [
        html.Tr(
            [
                html.Td(
                    [ln.product]
                    + (
                        [html.Br(), html.Small(t("fc.plan_qty", lang, n=fmt_num(plan[ln.product_id], lang)))]
                        if ln.product_id in plan
                        else []
                    ),
                    className="fc-product",
                ),
                html.Td(
                    [
                        html.Span(fmt_num(ln.forecast, lang), className="fc-qty"),
                        html.Br(),
                        html.Small(
                            f"{fmt_num(ln.lower, lang)}\u2013{fmt_num(ln.upper, lang)}", className="muted"
                        ),
                    ],
                    className="num",
                ),
                html.Td(ln.explanation, className="fc-why"),
            ]
        )
        for ln in lines
    ]
    return html.Div(
        html.Table([head, html.Tbody(body)], className="data-table fc-table"),
        className="table-wrap",
        id=f"{P}-rows",
    )


def _table_and_total(ctx: AppContext, store_id: str, view: str, lang: str) -> tuple[Any, float, str]:
    def load(_v: dict) -> tuple[Any, float, str]:
        lines = ordered_lines(ctx, store_id, view, lang)
        tbl = prebuilt(product_table(lines, lang, plan_quantities(ctx, store_id)))
        return (
            tbl,
            sum(ln.forecast for ln in lines),
            ", ".join(sorted({ln.model_version for ln in lines})) or "-",
        )

    return ctx.serving.cached(
        ("forecast_table", store_id, view, lang), (FORECASTS, DAILY_SALES, PRODUCTS, BAKE_PLAN), load
    )


def forecast_view(
    ctx: AppContext, principal: Principal, lang: str, store_id: str | None, view: str, product_id: str | None
) -> tuple[dict, Any, Any]:
    """(figure, product table, summary) for one store (or the chain) and view; the page's one callback."""
    if view not in ("tomorrow", "week", "month"):
        view = "tomorrow"
    if store_id != CHAIN or not principal.all_stores:
        check_store(principal, store_id)
    if not store_id:
        return (
            chain_figure(pd.DataFrame(), pd.DataFrame(), lang),
            notice(t("fc.no_store", lang), "warn"),
            None,
        )
    snap = ctx.serving.forecast_snapshot()
    if snap is None:
        msg = notice(t("common.no_forecasts", lang), "warn", id=f"{P}-empty")
        return forecast_figure(pd.DataFrame(), pd.DataFrame(), lang), msg, None
    tbl, _total, model = _table_and_total(ctx, store_id, view, lang)
    status = current_status(ctx.serving, ctx.conf, _scope(principal, store_id))
    if store_id == CHAIN:
        fc = chain_forecasts(ctx)
        hist = pd.DataFrame()
        if product_id:
            recent = ctx.serving.recent_sales()
            parts = [df[df["product_id"] == product_id] for df in recent.values()]
            hist = (
                pd.concat(parts).groupby("date", as_index=False)["quantity_sold"].sum(min_count=1)
                if parts
                else hist
            )
    else:
        fc = ctx.serving.forecasts([store_id])
        recent = ctx.serving.recent_sales().get(store_id)
        hist = (
            recent[recent["product_id"] == product_id]
            if recent is not None and product_id
            else pd.DataFrame()
        )
    series = (
        window(fc[fc["product_id"] == product_id], "month").sort_values("date")
        if product_id
        else daily_totals(fc, "month")
    )
    fig = forecast_figure(hist[["date", "quantity_sold"]] if len(hist) else pd.DataFrame(), series, lang)
    today = status.run_date if status else snap.as_of + timedelta(days=1)
    summary = html.Div(
        [
            *status_notices(ctx, status, lang),
            html.P(horizon_text(snap.as_of, view, today, lang), className="horizon-dates", id=f"{P}-dates"),
            html.P(
                t("fc.as_of", lang, date=fmt_date(snap.as_of, lang), model=model),
                className="muted",
                id=f"{P}-asof",
            ),
            html.Div(headline(ctx, store_id, view, product_id, lang, status), className="kpis"),
        ]
    )
    return fig, tbl, summary


def headline(
    ctx: AppContext,
    store_id: str,
    view: str,
    product_id: str | None,
    lang: str,
    status: ForecastStatus | None,
) -> list[Any]:
    """The chosen product's total for the period, in its unit; the all-products total only where every product is
    sold in the same unit (loaves, portions and kilograms do not add up), else a line saying so and asking for a
    product (units: bakery.app.units)."""
    lines = all_lines(ctx, view, lang).get(store_id, [])
    units = resolve_units(ctx.serving.products(), ctx.conf.get("units"))
    period = {o["value"]: o["label"] for o in view_options(status, lang)}[view]
    out = []
    chosen = next((ln for ln in lines if ln.product_id == product_id), None)
    if chosen is not None:
        out.append(
            kpi(
                t("fc.total_product", lang, product=chosen.product, period=period),
                f"{fmt_num(chosen.forecast, lang)} {unit_label(units.get(chosen.product_id), lang)}",
            )
        )
    shown = [units.get(ln.product_id) for ln in lines]
    if lines and same_unit(shown):
        unit = unit_label(shown[0], lang)
        total = sum(ln.forecast for ln in lines)
        out.append(kpi(t("fc.total_all", lang, unit=unit, period=period), f"{fmt_num(total, lang)} {unit}"))
    elif lines:
        names = ", ".join(sorted({unit_label(u, lang) for u in shown}))
        msg = (
            t("fc.units_differ", lang, units=names, product=chosen.product)
            if chosen is not None
            else t("fc.units_differ_pick", lang, units=names)
        )
        out.append(html.P(msg, className="muted units-note", id=f"{P}-units-note"))
    return out


def register(app: Any, ctx: AppContext) -> None:
    @app.callback(
        Output(f"{P}-product", "options"),
        Output(f"{P}-product", "value"),
        Input(f"{P}-store", "value"),
        Input(f"{P}-product", "value"),
    )
    @secured(ALL_ROLES)
    def _products(principal, lang, store_id, current):
        if store_id != CHAIN or not principal.all_stores:
            check_store(principal, store_id)
        return product_choices(ctx, store_id, current, lang)

    @app.callback(
        Output(f"{P}-graph", "figure"),
        Output(f"{P}-table", "children"),
        Output(f"{P}-summary", "children"),
        Input(f"{P}-store", "value"),
        Input(f"{P}-view", "value"),
        Input(f"{P}-product", "value"),
    )
    @secured(ALL_ROLES)
    def _update(principal, lang, store_id, view, product_id):
        return forecast_view(ctx, principal, lang, store_id, view, product_id)


PAGE = Page("/", ALL_ROLES, "nav.forecast", layout, register)
