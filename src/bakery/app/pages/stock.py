"""Stock page: alerts where closing stock will not cover tomorrow's forecast or ran out recently."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, html

from bakery.app.auth import ALL_ROLES, Principal, check_store
from bakery.app.context import AppContext
from bakery.app.i18n import fmt_date, t
from bakery.app.pages import Page
from bakery.app.pages.common import card, notice, page_header, secured, store_picker, table, visible_stores
from bakery.app.summaries import stock_alerts

P = "stock"


def layout(ctx: AppContext, principal: Principal, lang: str, query: dict[str, list[str]]) -> Any:
    return html.Div(
        [
            page_header(t("stock.title", lang)),
            html.Div([store_picker(P, ctx, principal, lang)], className="controls"),
            card(None, html.Div(id=f"{P}-alerts")),
        ]
    )


def alerts_view(ctx: AppContext, principal: Principal, lang: str, store_id: str | None) -> Any:
    check_store(principal, store_id)
    stores = [store_id] if store_id else [o["value"] for o in visible_stores(ctx, principal)]
    lookback = int(ctx.options.get("stockout_lookback_days"))
    inv = ctx.serving.inventory(stores, lookback)
    if inv.empty:
        return notice(t("stock.no_inventory", lang), id=f"{P}-empty")
    tomorrow = ctx.serving.forecasts(stores, horizon=1)
    alerts = stock_alerts(inv, tomorrow, float(ctx.options.get("stock_alert_ratio")), lookback)
    names = ctx.serving.product_names()
    rows = []
    for r in alerts.itertuples():
        msg = (
            t(f"stock.msg.{r.reason}", lang)
            if r.reason != "stockouts"
            else t("stock.msg.stockouts", lang, n=r.stockouts, days=lookback)
        )
        rows.append(
            {
                "store": r.store_id,
                "product": names.get(r.product_id, r.product_id),
                "stock": r.closing_stock,
                "forecast": r.forecast,
                "stockouts": r.stockouts,
                "severity": r.severity,
                "message": msg,
                "_class": f"sev-{r.severity.lower()}",
            }
        )
    header = html.P(t("stock.as_of", lang, date=fmt_date(inv["date"].max().date(), lang)), className="muted")
    return html.Div(
        [
            header,
            table(
                rows,
                [
                    ("severity", t("stock.col.severity", lang)),
                    ("store", t("common.store", lang)),
                    ("product", t("common.product", lang)),
                    ("stock", t("stock.col.stock", lang)),
                    ("forecast", t("stock.col.forecast", lang)),
                    ("stockouts", t("stock.col.stockouts", lang)),
                    ("message", t("stock.col.message", lang)),
                ],
                id=f"{P}-table",
                lang=lang,
                numeric=["stock", "forecast"],
                empty=t("stock.none", lang),
            ),
        ]
    )


def register(app: Any, ctx: AppContext) -> None:
    @app.callback(Output(f"{P}-alerts", "children"), Input(f"{P}-store", "value"))
    @secured(ALL_ROLES)
    def _update(principal, lang, store_id):
        return alerts_view(ctx, principal, lang, store_id)


PAGE = Page("/stock", ALL_ROLES, "nav.stock", layout, register)
