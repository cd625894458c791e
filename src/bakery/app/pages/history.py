"""History page: what sold against what was forecast 1, 7 or 28 days before, with accuracy figures."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd
from dash import Input, Output, dcc, html

from bakery.app.auth import ALL_ROLES, Principal, check_store
from bakery.app.context import AppContext
from bakery.app.figures import history_figure
from bakery.app.i18n import fmt_date, fmt_num, fmt_pct, t
from bakery.app.pages import Page
from bakery.app.pages.common import (
    card,
    field,
    graph,
    kpi,
    notice,
    page_header,
    product_options,
    secured,
    store_picker,
)
from bakery.app.summaries import accuracy

P = "history"


WEEKS = (4, 8, 13, 26, 52)


def period(ctx: AppContext, weeks: Any) -> tuple[date, date]:
    """The last `weeks` weeks up to the latest sales day (8 when the choice is not one of WEEKS)."""
    end = ctx.serving.latest_sales_date() or date.today()
    n = weeks if weeks in WEEKS else 8
    return end - timedelta(days=7 * n - 1), end


def layout(ctx: AppContext, principal: Principal, lang: str, query: dict[str, list[str]]) -> Any:
    horizon = dcc.RadioItems(
        id=f"{P}-horizon",
        value=1,
        inline=True,
        className="segmented",
        options=[{"label": f"D+{h}", "value": h} for h in (1, 7, 28)],
    )
    weeks = dcc.Dropdown(
        id=f"{P}-weeks",
        value=8,
        clearable=False,
        searchable=False,
        placeholder=t("common.choose", lang),
        options=[{"label": t("hist.weeks", lang, n=n), "value": n} for n in WEEKS],
    )
    products = dcc.Dropdown(
        id=f"{P}-product", options=product_options(ctx), clearable=False, placeholder=t("common.choose", lang)
    )
    return html.Div(
        [
            page_header(t("hist.title", lang)),
            html.Div(
                [
                    store_picker(P, ctx, principal, lang),
                    field(t("common.product", lang), products),
                    field(t("hist.lead", lang), horizon),
                    field(t("hist.period", lang), weeks),
                ],
                className="controls",
            ),
            html.Div(id=f"{P}-kpis"),
            card(None, graph(f"{P}-graph", lang=lang)),
        ]
    )


def history_view(
    ctx: AppContext,
    principal: Principal,
    lang: str,
    store_id: str | None,
    product_id: str | None,
    horizon: int,
    weeks: Any,
) -> tuple[dict, Any]:
    """Sold against forecast for the period: the forecasts served then, or, for a new installation that has
    served none for those days yet, the backtest's out-of-sample forecasts, labelled as such."""
    check_store(principal, store_id)
    start_d, end_d = period(ctx, weeks)
    horizon = horizon if horizon in (1, 7, 28) else 1
    if not store_id or not product_id:
        return history_figure(pd.DataFrame(), pd.DataFrame(), horizon, lang), notice(
            t("common.no_data", lang)
        )
    actuals = ctx.serving.sales([store_id], start_d, end_d, product_id)
    past = ctx.serving.past_forecasts(store_id, product_id, start_d, end_d)
    past = past[past["horizon"] == horizon] if len(past) else past
    backtest = accuracy(actuals, past)["n"] == 0
    if backtest:
        models = ["champion", *([m] if (m := ctx.serving.champion_model()) else [])]
        past = ctx.serving.backtest_forecasts(
            store_id, product_id, start_d, end_d, models, min_horizon=horizon
        )
    fig = history_figure(
        actuals[["date", "quantity_sold"]] if len(actuals) else pd.DataFrame(), past, horizon, lang, backtest
    )
    span = html.P(
        t("hist.range", lang, start=fmt_date(start_d, lang), end=fmt_date(end_d, lang)), className="muted"
    )
    acc = accuracy(actuals, past)
    if not acc["n"]:
        return fig, html.Div([span, notice(t("hist.no_past", lang), id=f"{P}-nopast")])
    kpis = html.Div(
        [
            kpi(t("hist.pairs", lang), fmt_num(acc["n"], lang)),
            kpi(t("hist.mae", lang), fmt_num(acc["mae"], lang, 1)),
            kpi(t("hist.wmape", lang), fmt_pct(acc["wmape"], lang, 1)),
            kpi(t("hist.bias", lang), fmt_pct(acc["bias"], lang, 1, signed=True)),
            kpi(t("hist.coverage", lang), fmt_pct(acc["coverage"], lang, 0)),
        ],
        className="kpis",
    )
    label = [notice(t("hist.backtest", lang, h=horizon), id=f"{P}-backtest")] if backtest else []
    return fig, html.Div([span, *label, kpis])


def register(app: Any, ctx: AppContext) -> None:
    @app.callback(
        Output(f"{P}-product", "value"), Input(f"{P}-product", "options"), Input(f"{P}-product", "value")
    )
    @secured(ALL_ROLES)
    def _default_product(principal, lang, options, value):
        values = [o["value"] for o in options or []]
        return value if value in values else (values[0] if values else None)

    @app.callback(
        Output(f"{P}-graph", "figure"),
        Output(f"{P}-kpis", "children"),
        Input(f"{P}-store", "value"),
        Input(f"{P}-product", "value"),
        Input(f"{P}-horizon", "value"),
        Input(f"{P}-weeks", "value"),
    )
    @secured(ALL_ROLES)
    def _update(principal, lang, store_id, product_id, horizon, weeks):
        return history_view(ctx, principal, lang, store_id, product_id, horizon, weeks)


PAGE = Page("/history", ALL_ROLES, "nav.history", layout, register)
