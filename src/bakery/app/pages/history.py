"""History page: what sold against what was forecast 1, 7 or 28 days before, with accuracy figures."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd
from dash import Input, Output, dcc, html

from bakery.app.auth import ALL_ROLES, Principal, check_store
from bakery.app.context import AppContext
from bakery.app.figures import history_figure
from bakery.app.i18n import fmt_num, t
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


def default_range(ctx: AppContext) -> tuple[date, date]:
    end = ctx.serving.latest_sales_date() or date.today()
    return end - timedelta(days=55), end


def layout(ctx: AppContext, principal: Principal, lang: str, query: dict[str, list[str]]) -> Any:
    start, end = default_range(ctx)
    horizon = dcc.RadioItems(
        id=f"{P}-horizon",
        value=1,
        inline=True,
        className="segmented",
        options=[{"label": f"D+{h}", "value": h} for h in (1, 7, 28)],
    )
    return html.Div(
        [
            page_header(t("hist.title", lang)),
            html.Div(
                [
                    store_picker(P, ctx, principal, lang),
                    field(
                        t("common.product", lang),
                        dcc.Dropdown(id=f"{P}-product", options=product_options(ctx), clearable=False),
                    ),
                    field(t("hist.lead", lang), horizon),
                    field(
                        f"{t('common.from', lang)} – {t('common.to', lang)}",
                        dcc.DatePickerRange(
                            id=f"{P}-range",
                            start_date=start,
                            end_date=end,
                            display_format="YYYY-MM-DD",
                            first_day_of_week=1,
                        ),
                    ),
                ],
                className="controls",
            ),
            html.Div(id=f"{P}-kpis", className="kpis"),
            card(None, graph(f"{P}-graph")),
        ]
    )


def _day(value: Any, fallback: date) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return fallback


def history_view(
    ctx: AppContext,
    principal: Principal,
    lang: str,
    store_id: str | None,
    product_id: str | None,
    horizon: int,
    start: Any,
    end: Any,
) -> tuple[dict, Any]:
    check_store(principal, store_id)
    d_start, d_end = default_range(ctx)
    start_d, end_d = _day(start, d_start), _day(end, d_end)
    if start_d > end_d:
        start_d, end_d = end_d, start_d
    end_d = min(end_d, start_d + timedelta(days=730))
    horizon = horizon if horizon in (1, 7, 28) else 1
    if not store_id or not product_id:
        return history_figure(pd.DataFrame(), pd.DataFrame(), horizon, lang), notice(
            t("common.no_data", lang)
        )
    actuals = ctx.serving.sales([store_id], start_d, end_d, product_id)
    past = ctx.serving.past_forecasts(store_id, product_id, start_d, end_d)
    past = past[past["horizon"] == horizon] if len(past) else past
    fig = history_figure(
        actuals[["date", "quantity_sold"]] if len(actuals) else pd.DataFrame(), past, horizon, lang
    )
    acc = accuracy(actuals, past)
    if not acc["n"]:
        return fig, notice(t("hist.no_past", lang), id=f"{P}-nopast")
    kpis = html.Div(
        [
            kpi(t("hist.pairs", lang), str(acc["n"])),
            kpi(t("hist.mae", lang), fmt_num(acc["mae"], lang, 1)),
            kpi(t("hist.wmape", lang), fmt_num(acc["wmape"], lang, 1) + " %"),
            kpi(t("hist.bias", lang), fmt_num(acc["bias"], lang, 1) + " %"),
            kpi(t("hist.coverage", lang), fmt_num(acc["coverage"], lang, 0) + " %"),
        ],
        className="kpis",
    )
    return fig, kpis


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
        Input(f"{P}-range", "start_date"),
        Input(f"{P}-range", "end_date"),
    )
    @secured(ALL_ROLES)
    def _update(principal, lang, store_id, product_id, horizon, start, end):
        return history_view(ctx, principal, lang, store_id, product_id, horizon, start, end)


PAGE = Page("/history", ALL_ROLES, "nav.history", layout, register)
