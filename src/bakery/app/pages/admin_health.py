"""Health page (admins): last runs and durations, failures, quarantine counts, data-quality failures, freshness."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from dash import Input, Output, html

from bakery.app.auth import ADMIN, Principal
from bakery.app.context import AppContext
from bakery.app.figures import runs_figure
from bakery.app.formatting import code_words, fmt_count, fmt_day, fmt_instant, rule_words
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


def freshness_notice(latest_sales: str | None, today: date, limit: int, lang: str) -> Any:
    """A warning in plain words when the newest sales day is more than `limit` days before `today`."""
    if not latest_sales:
        return html.Div()
    last = date.fromisoformat(latest_sales[:10])
    days = (today - last).days
    if days > limit:
        text = t("hl.stale", lang, date=fmt_day(last, lang), days=days, limit=limit)
        return notice(text, "warn", id=f"{P}-stale")
    return notice(t("hl.fresh", lang, date=fmt_day(last, lang)), "ok", id=f"{P}-fresh")


def health_view(ctx: AppContext, principal: Principal, lang: str, today: date | None = None) -> Any:
    fresh = ctx.serving.freshness()
    runs = ctx.serving.runs(200)
    recent = runs.head(50)
    failures = int((recent["status"] != "success").sum()) if len(recent) else 0
    flag = read_retrain_flag(ctx.settings)
    today = today or datetime.now(UTC).date()
    stale = freshness_notice(
        fresh["latest_sales_date"], today, int(ctx.conf.get("health.stale_sales_days", 2)), lang
    )
    kpis = html.Div(
        [
            kpi(t("hl.latest_sales", lang), fmt_day(fresh["latest_sales_date"], lang)),
            kpi(t("hl.latest_forecast", lang), fmt_day(fresh["latest_forecast_as_of"], lang)),
            kpi(t("hl.failures", lang), fmt_count(failures, lang)),
            kpi(t("hl.retrain", lang), t("common.yes" if flag else "common.no", lang)),
        ],
        className="kpis",
    )
    run_rows = (
        [
            {
                "job": r.job,
                "started": fmt_instant(r.started, lang),
                "status": code_words("hl.run", r.status, lang),
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
        {
            "source": r.source,
            "rule": rule_words(r.rule, lang),
            "rows": int(r.rows),
            "last": fmt_instant(r.last, lang),
        }
        for r in q.itertuples()
    ]
    dq = ctx.serving.dq_failures(50)
    dq_rows = (
        [
            {
                "at": fmt_instant(r.checked_at, lang),
                "source": r.source,
                "expectation": code_words("dq", r.expectation, lang),
                "column": _str(r.column),
                "severity": code_words("sev", r.severity, lang),
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
            stale,
            kpis,
            card(
                t("hl.runs", lang),
                html.P(t("hl.runs_help", lang), className="muted"),
                graph(f"{P}-runs-graph", runs_figure(runs, lang), lang=lang),
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
                        ("expectation", t("hl.check", lang)),
                        ("column", t("hl.column", lang)),
                        ("severity", t("stock.col.severity", lang)),
                    ],
                    id=f"{P}-dq",
                    lang=lang,
                ),
            ),
            card(
                t("hl.tables", lang),
                table(
                    versions, [("table", t("hl.table", lang)), ("version", t("hl.version", lang))], lang=lang
                ),
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
