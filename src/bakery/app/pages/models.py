"""Models page (analysts): champion, challenger and shadow versions side by side, on metrics and on one series."""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import Input, Output, dcc, html

from bakery.app.auth import STAFF, Principal, check_store
from bakery.app.context import AppContext
from bakery.app.figures import models_figure
from bakery.app.formatting import fmt_count, model_label
from bakery.app.i18n import t
from bakery.app.pages import Page
from bakery.app.pages.common import (
    card,
    field,
    graph,
    notice,
    page_header,
    product_options,
    secured,
    store_picker,
    table,
)
from bakery.app.queries import CLOSED_MODEL, NOT_OFFERED_MODEL
from bakery.app.summaries import model_versions

P = "models"


def layout(ctx: AppContext, principal: Principal, lang: str, query: dict[str, list[str]]) -> Any:
    snap = ctx.serving.forecast_snapshot()
    if snap is None:
        return html.Div(
            [
                page_header(t("mod.title", lang)),
                notice(t("common.no_forecasts", lang), "warn", id=f"{P}-empty"),
            ]
        )
    rows, metric_cols, zero_rows = version_rows(snap.roles, ctx.serving.metrics(), lang)
    return html.Div(
        [
            page_header(t("mod.title", lang)),
            card(
                None,
                table(
                    rows,
                    [
                        ("role", t("mod.role", lang)),
                        ("model", t("met.model", lang)),
                        ("model_version", t("mod.version", lang)),
                        ("rows", t("common.rows", lang)),
                        *metric_cols,
                    ],
                    id=f"{P}-table",
                    lang=lang,
                    numeric=[c for c, _ in metric_cols],
                    digits=1,
                ),
                html.P(t("mod.not_served", lang, n=fmt_count(zero_rows, lang)), className="muted")
                if zero_rows
                else html.Div(),
            ),
            card(
                t("mod.compare", lang),
                html.Div(
                    [
                        store_picker(P, ctx, principal, lang),
                        field(
                            t("common.product", lang),
                            dcc.Dropdown(id=f"{P}-product", options=product_options(ctx), clearable=False),
                        ),
                    ],
                    className="controls",
                ),
                graph(f"{P}-graph", lang=lang),
            ),
        ]
    )


def version_rows(
    roles: pd.DataFrame, metrics: pd.DataFrame, lang: str
) -> tuple[list[dict[str, Any]], list[tuple[str, str]], int]:
    """The versions table in words: (rows, wMAPE columns, forecast rows set to 0 without a model). A closed
    store's or an off-sale product's zero is no model, so it is counted apart rather than listed as one."""
    no_model = roles["model"].isin([CLOSED_MODEL, NOT_OFFERED_MODEL]) if len(roles) else pd.Series(dtype=bool)
    zero_rows = int(roles.loc[no_model, "rows"].sum()) if len(roles) else 0
    versions = model_versions(roles[~no_model] if len(roles) else roles, metrics)
    metric_cols = [
        (c, c.replace("wmape_", "wMAPE ") + " (%)") for c in versions.columns if c.startswith("wmape_")
    ]
    rows = [
        {
            **r,
            "role": model_label(r["role"], lang),
            "model": model_label(r["model"], lang),
            "rows": fmt_count(r["rows"], lang),
        }
        for r in versions.to_dict("records")
    ]
    return rows, metric_cols, zero_rows


def series_view(
    ctx: AppContext, principal: Principal, lang: str, store_id: str | None, product_id: str | None
) -> dict:
    check_store(principal, store_id)
    rows = ctx.serving.forecasts([store_id] if store_id else [], product_id=product_id, role=None)
    history = ctx.serving.recent_sales().get(store_id)
    history = history[history["product_id"] == product_id] if history is not None else None
    return models_figure(rows, history if history is not None else pd.DataFrame(), lang)


def register(app: Any, ctx: AppContext) -> None:
    @app.callback(
        Output(f"{P}-product", "value"), Input(f"{P}-product", "options"), Input(f"{P}-product", "value")
    )
    @secured(STAFF)
    def _default_product(principal, lang, options, value):
        values = [o["value"] for o in options or []]
        return value if value in values else (values[0] if values else None)

    @app.callback(
        Output(f"{P}-graph", "figure"), Input(f"{P}-store", "value"), Input(f"{P}-product", "value")
    )
    @secured(STAFF)
    def _update(principal, lang, store_id, product_id):
        return series_view(ctx, principal, lang, store_id, product_id)


PAGE = Page("/models", STAFF, "nav.models", layout, register)
