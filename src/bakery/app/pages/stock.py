"""Stock page: the products that need action (they keep running out, or what is left will not cover tomorrow),
as a list of cards that reads on a phone."""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import Input, Output, html

from bakery.app.auth import ALL_ROLES, Principal, check_store
from bakery.app.context import AppContext
from bakery.app.i18n import fmt_date, fmt_num, t
from bakery.app.pages import Page
from bakery.app.pages.common import card, notice, page_header, secured, store_picker, visible_stores
from bakery.app.summaries import StockRules, stock_alerts

P = "stock"


def layout(ctx: AppContext, principal: Principal, lang: str, query: dict[str, list[str]]) -> Any:
    return html.Div(
        [
            page_header(t("stock.title", lang)),
            html.Div([store_picker(P, ctx, principal, lang)], className="controls"),
            card(None, html.Div(id=f"{P}-alerts")),
        ]
    )


def rules(ctx: AppContext) -> StockRules:
    """The alert thresholds: the admin's ratio and look-back, the rest from conf/app.yml `stock_alerts`."""
    conf = ctx.conf.get("stock_alerts", {}) or {}
    return StockRules(
        ratio=float(ctx.options.get("stock_alert_ratio")),
        lookback_days=int(ctx.options.get("stockout_lookback_days")),
        **{
            k: conf[k]
            for k in ("stockout_days_warning", "stockout_days_critical", "daily_delivery_share")
            if k in conf
        },
    )


def alert_card(r: Any, product: str, store: str | None, day: str, lang: str, lookback: int) -> Any:
    """One alert as a card: what, how urgent, why in words, and the figures behind it."""
    msg = (
        t("stock.msg.stockouts", lang, n=r.stockouts, days=lookback)
        if r.reason == "stockouts"
        else t(f"stock.msg.{r.reason}", lang)
    )
    facts = [
        f"{t('stock.col.stock', lang)}: {fmt_num(r.closing_stock, lang)}",
        f"{t('stock.col.forecast_day', lang, day=day)}: {fmt_num(r.forecast, lang)}",
        f"{t('stock.col.stockouts', lang)}: {fmt_num(r.stockouts, lang)}",
    ]
    return html.Li(
        [
            html.Div(
                [
                    html.Strong(product, className="alert-product"),
                    html.Span(
                        t(f"stock.sev.{r.severity}", lang), className=f"badge badge-{r.severity.lower()}"
                    ),
                ],
                className="alert-head",
            ),
            *([html.Div(store, className="muted")] if store else []),
            html.Div(msg, className="alert-msg"),
            html.Div(" · ".join(facts), className="muted alert-facts"),
        ],
        className=f"alert-card sev-{r.severity.lower()}",
    )


def alerts_view(ctx: AppContext, principal: Principal, lang: str, store_id: str | None) -> Any:
    """The products that need action, as a list of cards (a phone's width; the store named only when the user
    has several)."""
    check_store(principal, store_id)
    visible = [o["value"] for o in visible_stores(ctx, principal)]
    stores = [store_id] if store_id else visible
    rule = rules(ctx)
    inv = ctx.serving.inventory(stores, rule.lookback_days)
    if inv.empty:
        return notice(t("stock.no_inventory", lang), id=f"{P}-empty")
    tomorrow = ctx.serving.forecasts(stores, horizon=1)
    alerts = stock_alerts(inv, tomorrow, rule)
    names = ctx.serving.product_names()
    store_names = {o["value"]: o["label"] for o in visible_stores(ctx, principal)}
    several = len(visible) > 1 and not store_id
    day = fmt_date(pd.Timestamp(tomorrow["date"].min()).date(), lang) if len(tomorrow) else "\u2013"
    header = html.P(
        t("stock.as_of", lang, date=fmt_date(inv["date"].max().date(), lang))
        + " · "
        + t(
            "stock.count",
            lang,
            n=len(alerts),
            total=inv[["store_id", "product_id"]].drop_duplicates().shape[0],
        ),
        className="muted",
    )
    if alerts.empty:
        return html.Div([header, notice(t("stock.none", lang), "ok", id=f"{P}-none")])
    cards = [
        alert_card(
            r,
            names.get(r.product_id, r.product_id),
            store_names.get(r.store_id, r.store_id) if several else None,
            day,
            lang,
            rule.lookback_days,
        )
        for r in alerts.itertuples()
    ]
    return html.Div([header, html.Ul(cards, className="alert-list", id=f"{P}-table")])


def register(app: Any, ctx: AppContext) -> None:
    @app.callback(Output(f"{P}-alerts", "children"), Input(f"{P}-store", "value"))
    @secured(ALL_ROLES)
    def _update(principal, lang, store_id):
        return alerts_view(ctx, principal, lang, store_id)


PAGE = Page("/stock", ALL_ROLES, "nav.stock", layout, register)
