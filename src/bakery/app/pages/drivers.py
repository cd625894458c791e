"""Drivers page (analysts): which factors move the forecasts, from the models' additive components."""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import Input, Output, html

from bakery.app.auth import STAFF, Principal, check_store
from bakery.app.context import AppContext
from bakery.app.figures import drivers_figure
from bakery.app.i18n import t
from bakery.app.pages import Page
from bakery.app.pages.common import CHAIN, card, graph, page_header, secured, store_picker, table
from bakery.app.summaries import drivers
from bakery.tables import FORECASTS

P = "drivers"


def layout(ctx: AppContext, principal: Principal, lang: str, query: dict[str, list[str]]) -> Any:
    return html.Div(
        [
            page_header(t("drv.title", lang)),
            html.P(t("drv.intro", lang), className="muted"),
            html.Div([store_picker(P, ctx, principal, lang, chain=True)], className="controls"),
            card(None, graph(f"{P}-graph", lang=lang), html.Div(id=f"{P}-table")),
        ]
    )


def drivers_view(ctx: AppContext, principal: Principal, lang: str, store_id: str | None) -> tuple[dict, Any]:
    if store_id != CHAIN:
        check_store(principal, store_id)
    snap = ctx.serving.forecast_snapshot()
    if snap is None:
        frame = pd.DataFrame()
    elif store_id == CHAIN:
        frame = ctx.serving.cached(
            ("drivers_chain", lang),
            (FORECASTS,),
            lambda _v: drivers(
                pd.concat([df[df["role"] == "champion"] for df in snap.by_store.values()], ignore_index=True),
                lang,
            ),
        )
    else:
        frame = drivers(ctx.serving.forecasts([store_id] if store_id else []), lang)
    rows = (
        [{"factor": r.label, "mean_abs": r.mean_abs, "mean": r.mean} for r in frame.itertuples()]
        if len(frame)
        else []
    )
    return drivers_figure(frame, lang), table(
        rows,
        [
            ("factor", t("drv.factor", lang)),
            ("mean_abs", t("drv.mean_abs", lang)),
            ("mean", t("drv.mean", lang)),
        ],
        id=f"{P}-rows",
        lang=lang,
        numeric=["mean_abs", "mean"],
        digits=2,
        empty=t("common.no_forecasts", lang),
    )


def register(app: Any, ctx: AppContext) -> None:
    @app.callback(
        Output(f"{P}-graph", "figure"), Output(f"{P}-table", "children"), Input(f"{P}-store", "value")
    )
    @secured(STAFF)
    def _update(principal, lang, store_id):
        return drivers_view(ctx, principal, lang, store_id)


PAGE = Page("/drivers", STAFF, "nav.drivers", layout, register)
