"""Health page (admins): last runs and durations, failures, quarantine counts, data-quality failures, freshness."""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import Input, Output, html

from bakery.app.auth import ADMIN, Principal
from bakery.app.context import AppContext
from bakery.app.figures import runs_figure
from bakery.app.i18n import t
from bakery.app.pages import Page
from bakery.app.pages.common import card, graph, kpi, notice, page_header, secured, table
from bakery.ops.retrain import read_retrain_flag
from bakery.tables import (
    BACKTEST_METRICS,
    DAILY_SALES,
    DQ_RESULTS,
    FEATURES,
    FORECASTS,
    INVENTORY_DAILY,
    QUARANTINE,
    RUNS,
    STORES,
)

P = "health"
TABLES = (
    DAILY_SALES,
    FEATURES,
    FORECASTS,
    BACKTEST_METRICS,
    STORES,
    INVENTORY_DAILY,
    RUNS,
    QUARANTINE,
    DQ_RESULTS,
)


def layout(ctx: AppContext, principal: Principal, lang: str, query: dict[str, list[str]]) -> Any:
    return html.Div(
        [
            page_header(
                t("hl.title", lang), html.Button("↻", id=f"{P}-refresh", n_clicks=0, className="button small")
            ),
            html.Div(id=f"{P}-body"),
        ]
    )


def _str(v: Any) -> str:
    return "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)


def _when(v: Any) -> str:
    return _str(v)[:19].replace("T", " ")


def health_view(ctx: AppContext, principal: Principal, lang: str) -> Any:
    fresh = ctx.serving.freshness()
    runs = ctx.serving.runs(200)
    recent = runs.head(50)
    failures = int((recent["status"] != "success").sum()) if len(recent) else 0
    flag = read_retrain_flag(ctx.settings)
    kpis = html.Div(
        [
            kpi(t("hl.latest_sales", lang), fresh["latest_sales_date"] or "–"),
            kpi(t("hl.latest_forecast", lang), fresh["latest_forecast_as_of"] or "–"),
            kpi(t("hl.failures", lang), str(failures)),
            kpi(t("hl.retrain", lang), t("common.yes" if flag else "common.no", lang)),
        ],
        className="kpis",
    )
    run_rows = (
        [
            {
                "job": r.job,
                "started": _when(r.started),
                "status": r.status,
                "seconds": r.seconds,
                "message": _str(r.message)[:160],
                "_class": "" if r.status == "success" else "sev-critical",
            }
            for r in runs.head(30).itertuples()
        ]
        if len(runs)
        else []
    )
    q = ctx.serving.quarantine_counts()
    q_rows = [
        {"source": r.source, "rule": r.rule, "rows": int(r.rows), "last": _when(r.last)}
        for r in q.itertuples()
    ]
    dq = ctx.serving.dq_failures(50)
    dq_rows = (
        [
            {
                "at": _when(r.checked_at),
                "source": r.source,
                "expectation": r.expectation,
                "column": r.column,
                "severity": r.severity,
                "_class": f"sev-{str(r.severity).lower()}",
            }
            for r in dq.itertuples()
        ]
        if len(dq)
        else []
    )
    versions = [
        {"table": k, "version": "–" if v is None else v}
        for k, v in ctx.serving.table_versions(TABLES).items()
    ]
    return html.Div(
        [
            kpis,
            card(
                t("hl.runs", lang),
                graph(f"{P}-runs-graph", runs_figure(runs, lang)),
                table(
                    run_rows,
                    [
                        ("job", t("hl.job", lang)),
                        ("started", t("hl.started", lang)),
                        ("status", t("common.status", lang)),
                        ("seconds", t("hl.seconds", lang)),
                        ("message", t("hl.message", lang)),
                    ],
                    id=f"{P}-runs",
                    lang=lang,
                    numeric=["seconds"],
                    digits=1,
                ),
            ),
            card(
                t("hl.quarantine", lang),
                table(
                    q_rows,
                    [
                        ("source", t("hl.source", lang)),
                        ("rule", t("hl.rule", lang)),
                        ("rows", t("common.rows", lang)),
                        ("last", t("hl.started", lang)),
                    ],
                    id=f"{P}-quarantine",
                    lang=lang,
                    numeric=["rows"],
                ),
            ),
            card(
                t("hl.dq", lang),
                table(
                    dq_rows,
                    [
                        ("at", t("hl.started", lang)),
                        ("source", t("hl.source", lang)),
                        ("expectation", "expectation"),
                        ("column", "column"),
                        ("severity", t("stock.col.severity", lang)),
                    ],
                    lang=lang,
                ),
            ),
            card(
                t("hl.tables", lang), table(versions, [("table", "table"), ("version", "version")], lang=lang)
            ),
            notice(str(flag.get("reasons", [])[-1]["reason"]), "warn") if flag else html.Div(),
        ]
    )


def register(app: Any, ctx: AppContext) -> None:
    @app.callback(Output(f"{P}-body", "children"), Input(f"{P}-refresh", "n_clicks"))
    @secured(ADMIN)
    def _update(principal, lang, n_clicks):
        return health_view(ctx, principal, lang)


PAGE = Page("/admin/health", ADMIN, "nav.health", layout, register, group="admin")
