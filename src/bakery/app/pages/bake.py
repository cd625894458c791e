"""Hornear hoy: the store's bake plan for its next day, product by product, as cards that read on a phone at
6 am: how many to bake (in trays where the product has a batch size), the forecast behind it, and why the two
differ. Printing the page gives the sheet for the bakery wall (the print style drops the menu); the plan also
downloads as CSV."""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import Input, Output, html

from bakery.app.auth import ALL_ROLES, Principal, check_store
from bakery.app.context import AppContext
from bakery.app.i18n import fmt_num, long_date, t
from bakery.app.pages import Page
from bakery.app.pages.common import card, notice, page_header, secured, store_picker

P = "bake"


def layout(ctx: AppContext, principal: Principal, lang: str, query: dict[str, list[str]]) -> Any:
    return html.Div(
        [
            page_header(t("bake.title", lang)),
            html.Div([store_picker(P, ctx, principal, lang)], className="controls no-print"),
            card(None, html.Div(id=f"{P}-plan")),
        ]
    )


def plan_card(r: Any, name: str, lang: str) -> Any:
    """One product: the quantity to bake large, trays when batched, the forecast and the reason in words."""
    qty = t("bake.qty", lang, n=fmt_num(r.quantity, lang))
    trays = (
        [
            html.Span(
                t("bake.trays", lang, n=int(r.batches), size=fmt_num(r.batch_size, lang)), className="muted"
            )
        ]
        if r.batch_size and r.batch_size > 1
        else []
    )
    facts = t("bake.forecast", lang, n=fmt_num(r.forecast, lang), level=fmt_num(100 * r.quantile_level, lang))
    return html.Li(
        [
            html.Div(
                [html.Strong(name, className="alert-product"), html.Span(qty, className="bake-qty")],
                className="alert-head",
            ),
            *trays,
            html.Div(r.reason or "", className="alert-msg"),
            html.Div(facts, className="muted alert-facts"),
            *([html.Div(r.degraded_reason, className="muted")] if r.degraded else []),
        ],
        className="alert-card bake-card" + (" sev-warning" if r.degraded else ""),
    )


def plan_view(ctx: AppContext, principal: Principal, lang: str, store_id: str | None) -> Any:
    """The plan of one store the user may see, the biggest quantities first."""
    if not store_id:
        return notice(t("bake.no_store", lang), id=f"{P}-empty")
    check_store(principal, store_id)
    plan = ctx.serving.bake_plan(store_id)
    if plan.empty:
        return notice(t("bake.none", lang), id=f"{P}-empty")
    names = ctx.serving.product_names()
    plan = plan.sort_values(["quantity", "product_id"], ascending=[False, True])
    day = pd.Timestamp(plan["date"].iloc[0]).date()
    header = [
        html.P(t("bake.for_day", lang, day=long_date(day, lang)), className="bake-day"),
        html.A(
            t("bake.csv", lang),
            href=f"/download/bake-plan/{store_id}.csv",
            id=f"{P}-csv",
            className="no-print",
        ),
    ]
    if plan["degraded"].any():
        header.append(notice(t("bake.degraded", lang), "warn", id=f"{P}-degraded"))
    cards = [plan_card(r, names.get(r.product_id, r.product_id), lang) for r in plan.itertuples()]
    return html.Div([*header, html.Ul(cards, className="alert-list", id=f"{P}-list")])


def register(app: Any, ctx: AppContext) -> None:
    @app.callback(Output(f"{P}-plan", "children"), Input(f"{P}-store", "value"))
    @secured(ALL_ROLES)
    def _update(principal, lang, store_id):
        return plan_view(ctx, principal, lang, store_id)


PAGE = Page("/bake", ALL_ROLES, "nav.bake", layout, register)
