"""Metrics page (analysts): MAE, RMSE, MAPE, wMAPE and bias per horizon, globally and per store, beside the baseline."""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import Input, Output, dcc, html

from bakery.app.auth import STAFF, Principal
from bakery.app.context import AppContext
from bakery.app.evaluation import data_cutoff
from bakery.app.figures import metrics_figure, store_metric_figure
from bakery.app.formatting import fmt_count, fmt_day, model_label
from bakery.app.i18n import t
from bakery.app.pages import Page
from bakery.app.pages.common import card, field, graph, notice, page_header, secured, table

P = "metrics"
METRICS = ("wmape", "mae", "rmse", "mape", "bias")
BASELINE = "seasonal_naive"


def layout(ctx: AppContext, principal: Principal, lang: str, query: dict[str, list[str]]) -> Any:
    return html.Div(
        [
            page_header(t("met.title", lang)),
            html.P(t("met.help", lang), className="muted"),
            html.Div(
                [
                    field(
                        t("met.metric", lang),
                        dcc.RadioItems(
                            id=f"{P}-metric",
                            value="wmape",
                            inline=True,
                            className="segmented",
                            options=[
                                {"label": m.upper() if m != "wmape" else "wMAPE", "value": m} for m in METRICS
                            ],
                        ),
                    ),
                    field(
                        t("common.horizon", lang),
                        dcc.RadioItems(
                            id=f"{P}-horizon",
                            value=1,
                            inline=True,
                            className="segmented",
                            options=[{"label": f"D+{h}", "value": h} for h in (1, 7, 28)],
                        ),
                    ),
                ],
                className="controls",
            ),
            html.Div(id=f"{P}-evaluated", className="muted"),
            card(t("met.global", lang), graph(f"{P}-global", lang=lang), html.Div(id=f"{P}-global-table")),
            card(t("met.by_store", lang), graph(f"{P}-stores", lang=lang), html.Div(id=f"{P}-store-table")),
        ]
    )


def global_rows(metrics: pd.DataFrame, lang: str = "es") -> list[dict[str, Any]]:
    """One row per model and horizon with every metric and the wMAPE gain over the baseline (points; positive
    when the model errs less than the baseline). Models in words, counts whole."""
    glob = metrics[metrics["store_id"].isna()]
    base = (
        glob[glob["model"] == BASELINE].set_index("horizon")["wmape"] if len(glob) else pd.Series(dtype=float)
    )
    rows = []
    for r in glob.sort_values(["horizon", "model"]).itertuples():
        gain = float(base[r.horizon] - r.wmape) if r.horizon in base.index and r.model != BASELINE else None
        rows.append(
            {
                "model": model_label(r.model, lang),
                "horizon": f"D+{r.horizon}",
                **{m: float(getattr(r, m)) for m in METRICS},
                "gain": gain,
                "n": fmt_count(r.n, lang),
            }
        )
    return rows


def metrics_view(ctx: AppContext, principal: Principal, lang: str, metric: str, horizon: int) -> tuple:
    metric = metric if metric in METRICS else "wmape"
    horizon = horizon if horizon in (1, 7, 28) else 1
    m = ctx.serving.metrics()
    if m.empty:
        empty = notice(t("met.none", lang), id=f"{P}-empty")
        return "", metrics_figure(m, metric, lang), empty, store_metric_figure(m, metric, horizon, lang), ""
    cols = [
        ("model", t("met.model", lang)),
        ("horizon", t("common.horizon", lang)),
        ("wmape", "wMAPE %"),
        ("mae", "MAE"),
        ("rmse", "RMSE"),
        ("mape", "MAPE %"),
        ("bias", "Bias %"),
        ("gain", t("met.gain_unit", lang)),
        ("n", t("met.n", lang)),
    ]
    per = m[m["store_id"].notna() & (m["horizon"] == horizon)].sort_values(["store_id", "model"])
    store_rows = [
        {
            "store": r.store_id,
            "model": model_label(r.model, lang),
            **{k: float(getattr(r, k)) for k in METRICS},
            "n": fmt_count(r.n, lang),
        }
        for r in per.itertuples()
    ]
    return (
        evaluated_text(ctx, m, lang),
        metrics_figure(m, metric, lang),
        table(global_rows(m, lang), cols, id=f"{P}-table", lang=lang, numeric=[*METRICS, "gain"], digits=2),
        store_metric_figure(m, metric, horizon, lang),
        html.Div(
            [
                html.H4(t("met.by_store_h", lang, h=horizon), id=f"{P}-store-horizon"),
                table(
                    store_rows,
                    [("store", t("common.store", lang)), *cols[:1], *cols[2:7], cols[-1]],
                    id=f"{P}-store-rows",
                    lang=lang,
                    numeric=list(METRICS),
                    digits=2,
                ),
            ]
        ),
    )


def evaluated_text(ctx: AppContext, metrics: pd.DataFrame, lang: str) -> str:
    """Up to which day of data the metrics hold (the backtest's last scored day, else the last sales day) and
    when they were computed: the day they ran says nothing about how recent the data was."""
    computed = pd.to_datetime(metrics["evaluated_at"]).max()
    run_ids = sorted({str(r) for r in metrics.get("run_id", pd.Series(dtype=str)).dropna()})
    cutoff = data_cutoff(ctx.serving, run_ids) or ctx.serving.latest_sales_date()
    return t("met.evaluated_cutoff", lang, cutoff=fmt_day(cutoff, lang), run=fmt_day(computed, lang))


def register(app: Any, ctx: AppContext) -> None:
    @app.callback(
        Output(f"{P}-evaluated", "children"),
        Output(f"{P}-global", "figure"),
        Output(f"{P}-global-table", "children"),
        Output(f"{P}-stores", "figure"),
        Output(f"{P}-store-table", "children"),
        Input(f"{P}-metric", "value"),
        Input(f"{P}-horizon", "value"),
    )
    @secured(STAFF)
    def _update(principal, lang, metric, horizon):
        return metrics_view(ctx, principal, lang, metric, horizon)


PAGE = Page("/accuracy", STAFF, "nav.metrics", layout, register)
