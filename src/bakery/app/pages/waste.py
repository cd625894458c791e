"""Mermas y ventas perdidas (analysts): from gold.ledger, what was baked, sold and thrown away and the sales lost
to stock-outs, per store and product and over time, in units and euros; and what the bake plan's quantities
would have cost against what the stores actually baked, on the same days and demand (bakery.decisions.compare)."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

import pandas as pd
from dash import Input, Output, dcc, html

from bakery.app.auth import STAFF, Principal, check_store
from bakery.app.context import AppContext
from bakery.app.figures import waste_figure
from bakery.app.formatting import fmt_count, fmt_day, fmt_eur, fmt_pct
from bakery.app.i18n import t
from bakery.app.pages import Page
from bakery.app.pages.common import (
    CHAIN,
    card,
    field,
    graph,
    kpi,
    notice,
    page_header,
    product_options,
    secured,
    store_picker,
    table,
    visible_stores,
)
from bakery.decisions.compare import compare_totals, plan_vs_actual
from bakery.decisions.costs import CostError, load_cost_model, product_costs
from bakery.decisions.overrides import fva_summary

log = logging.getLogger(__name__)
P = "waste"
DEFAULT_DAYS = 28
UNITS = ("baked", "sold", "wasted", "lost_sales")
EUROS = ("baked_eur", "sold_eur", "wasted_eur", "lost_sales_eur")


def layout(ctx: AppContext, principal: Principal, lang: str, query: dict[str, list[str]]) -> Any:
    span = ctx.serving.ledger_range()
    start, end = default_window(span)
    return html.Div(
        [
            page_header(t("waste.title", lang)),
            html.P(t("waste.help", lang), className="muted"),
            html.Div(
                [
                    field(
                        t("waste.period", lang),
                        dcc.DatePickerRange(
                            id=f"{P}-range",
                            min_date_allowed=span[0] if span else None,
                            max_date_allowed=span[1] if span else None,
                            start_date=start,
                            end_date=end,
                            display_format="DD/MM/YYYY" if lang == "es" else "YYYY-MM-DD",
                            first_day_of_week=1,
                        ),
                    ),
                    store_picker(P, ctx, principal, lang, chain=True, value=CHAIN),
                    field(
                        t("common.product", lang),
                        dcc.Dropdown(
                            id=f"{P}-product",
                            options=product_options(ctx),
                            value=None,
                            placeholder=t("common.all_products", lang),
                        ),
                    ),
                    field(
                        t("waste.measure", lang),
                        dcc.RadioItems(
                            id=f"{P}-measure",
                            value="eur",
                            inline=True,
                            className="segmented",
                            options=[
                                {"label": t("waste.eur", lang), "value": "eur"},
                                {"label": t("waste.units", lang), "value": "units"},
                            ],
                        ),
                    ),
                ],
                className="controls",
            ),
            html.Div(id=f"{P}-kpis"),
            card(t("waste.over_time", lang), graph(f"{P}-graph", lang=lang)),
            card(t("waste.by_store", lang), html.Div(id=f"{P}-stores")),
            card(t("waste.compare", lang), html.Div(id=f"{P}-compare")),
            card(t("waste.fva", lang), html.Div(id=f"{P}-fva")),
        ]
    )


def default_window(span: tuple[date, date] | None) -> tuple[date | None, date | None]:
    """The last DEFAULT_DAYS days of the ledger (or all of it when shorter)."""
    if span is None:
        return None, None
    return max(span[0], span[1] - timedelta(days=DEFAULT_DAYS - 1)), span[1]


def _day(value: Any) -> date | None:
    """A picker's date ('2026-04-30' or '2026-04-30T00:00:00'); None when missing or not a date."""
    try:
        return pd.Timestamp(str(value)[:10]).date() if value else None
    except ValueError:
        return None


def ledger_totals(ledger: pd.DataFrame) -> dict[str, float]:
    """The sums of the units and euros, waste as a share of what was baked, and the stock-out days whose lost
    sales are unknown (no D+1 forecast): the lost figures leave them out."""
    sums = {c: float(ledger[c].sum()) for c in (*UNITS, *EUROS)}
    sums["waste_share"] = sums["wasted"] / sums["baked"] if sums["baked"] else float("nan")
    sums["unknown_lost"] = int(
        (ledger["stockout"].fillna(False).astype(bool) & ledger["lost_sales"].isna()).sum()
    )
    return sums


def store_rows(ledger: pd.DataFrame, names: dict[str, str], lang: str) -> list[dict[str, Any]]:
    """One row per store, biggest waste in euros first, every figure as the reader reads it."""
    per = ledger.groupby("store_id")[[*UNITS, *EUROS]].sum().sort_values("wasted_eur", ascending=False)
    return [
        {
            "store": names.get(store, store),
            **{c: fmt_count(getattr(r, c), lang) for c in UNITS},
            **{c: fmt_eur(getattr(r, c), lang) for c in EUROS},
            "share": fmt_pct(r.wasted / r.baked if r.baked else None, lang),
        }
        for store, r in zip(per.index, per.itertuples(index=False), strict=True)
    ]


def with_salvage_and_goodwill(ctx: AppContext, plan: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """The plan rows with each product's salvage value and goodwill cost from the cost model (conf/bake_plan.yml,
    as the night's planner used them); the rows unchanged, and False, when the cost model cannot be read."""
    try:
        costs = product_costs(ctx.serving.products(), load_cost_model(ctx.settings.conf_dir))
    except (CostError, OSError, ValueError):
        log.exception("the cost model could not be read; the comparison is at margin and cost alone")
        return plan, False
    return plan.merge(
        costs[["product_id", "salvage_value", "goodwill_cost"]], on="product_id", how="left"
    ), True


def compare_view(
    ctx: AppContext, plan: pd.DataFrame, ledger: pd.DataFrame, names: dict[str, str], lang: str
) -> Any:
    """The plan's policy against what was baked, for the days that have both, against the same demand."""
    if plan.empty:
        return notice(t("waste.cmp.no_plan", lang), id=f"{P}-compare-empty")
    plan, full = with_salvage_and_goodwill(ctx, plan)
    rows = plan_vs_actual(plan, ledger)
    if rows.empty:
        return notice(t("waste.cmp.no_overlap", lang), id=f"{P}-compare-empty")
    tot = compare_totals(rows)
    saving = tot["saving_eur"]
    tiles = html.Div(
        [
            kpi(t("waste.cmp.plan", lang), fmt_eur(tot["plan_cost_eur"], lang)),
            kpi(t("waste.cmp.actual", lang), fmt_eur(tot["actual_cost_eur"], lang)),
            kpi(
                t("waste.cmp.saving" if saving >= 0 else "waste.cmp.extra", lang), fmt_eur(abs(saving), lang)
            ),
            kpi(t("waste.cmp.n", lang), fmt_count(tot["n"], lang)),
        ],
        className="kpis",
        id=f"{P}-compare-kpis",
    )
    per = rows.groupby("store_id")[[c for c in rows.columns if c.endswith("_eur")]].sum()
    body = [
        {
            "store": names.get(s, s),
            **{c: fmt_eur(getattr(r, c), lang) for c in ("plan_waste_eur", "plan_lost_eur", "plan_cost_eur")},
            **{
                c: fmt_eur(getattr(r, c), lang)
                for c in ("actual_waste_eur", "actual_lost_eur", "actual_cost_eur")
            },
        }
        for s, r in zip(per.index, per.itertuples(index=False), strict=True)
    ]
    cols = [
        ("store", t("common.store", lang)),
        ("plan_waste_eur", t("waste.cmp.col.plan_waste", lang)),
        ("plan_lost_eur", t("waste.cmp.col.plan_lost", lang)),
        ("plan_cost_eur", t("waste.cmp.col.plan_cost", lang)),
        ("actual_waste_eur", t("waste.cmp.col.actual_waste", lang)),
        ("actual_lost_eur", t("waste.cmp.col.actual_lost", lang)),
        ("actual_cost_eur", t("waste.cmp.col.actual_cost", lang)),
    ]
    how = t("waste.cmp.how", lang) + ("" if full else " " + t("waste.cmp.no_cost_model", lang))
    return html.Div(
        [tiles, html.P(how, className="muted"), table(body, cols, id=f"{P}-compare-rows", lang=lang)]
    )


def fva_view(scores: pd.DataFrame, lang: str) -> Any:
    """Whether the managers' changes to the plan added value: per manager and per reason, how many changes, how
    many helped, and the forecast value added (the plan's cost minus the changed quantity's, against the day's
    demand; positive when the change helped) in units and euros."""
    if scores.empty:
        return notice(t("waste.fva.none", lang), id=f"{P}-fva-empty")
    helped = int((scores["fva_eur"] > 0).sum())
    tiles = html.Div(
        [
            kpi(t("waste.fva.n", lang), fmt_count(len(scores), lang)),
            kpi(t("waste.fva.helped", lang), fmt_count(helped, lang)),
            kpi(t("waste.fva.eur", lang), fmt_eur(float(scores["fva_eur"].sum()), lang)),
        ],
        className="kpis",
        id=f"{P}-fva-kpis",
    )

    def rows(by: str, label) -> list[dict[str, Any]]:
        return [
            {
                "who": label(getattr(r, by)),
                "overrides": fmt_count(r.overrides, lang),
                "helped": fmt_count(r.helped, lang),
                "fva_units": fmt_count(r.fva_units, lang),
                "fva_eur": fmt_eur(r.fva_eur, lang),
            }
            for r in fva_summary(scores, by=by).itertuples(index=False)
        ]

    def columns(first: str) -> list[tuple[str, str]]:
        return [
            ("who", first),
            ("overrides", t("waste.fva.n", lang)),
            ("helped", t("waste.fva.helped", lang)),
            ("fva_units", t("waste.fva.units", lang)),
            ("fva_eur", t("waste.fva.eur", lang)),
        ]

    return html.Div(
        [
            tiles,
            html.P(t("waste.fva.how", lang), className="muted"),
            table(
                rows("username", str), columns(t("waste.fva.by_user", lang)), id=f"{P}-fva-users", lang=lang
            ),
            table(
                rows("reason_code", lambda code: t(f"bake.ov.reason.{code}", lang)),
                columns(t("waste.fva.by_reason", lang)),
                id=f"{P}-fva-reasons",
                lang=lang,
            ),
        ]
    )


def waste_view(
    ctx: AppContext,
    principal: Principal,
    lang: str,
    start: Any,
    end: Any,
    store_id: str | None,
    product_id: str | None,
    measure: str,
) -> tuple[Any, dict, Any, Any, Any]:
    """(tiles, chart, per-store table, plan-against-actual, the overrides' value) for the chosen days, store (or
    chain) and product."""
    store = None if store_id in (None, CHAIN) else store_id
    check_store(principal, store)
    span = ctx.serving.ledger_range()
    if span is None:
        empty = notice(t("waste.no_ledger", lang), id=f"{P}-empty")
        return empty, waste_figure(pd.DataFrame(), measure, lang), "", "", ""
    default_start, default_end = default_window(span)
    start_d, end_d = _day(start) or default_start, _day(end) or default_end
    if start_d > end_d:
        start_d, end_d = end_d, start_d
    # the whole chain: every store in the ledger for a user who sees them all, else the user's own
    stores = [store] if store else None if principal.all_stores else sorted(principal.stores)
    ledger = ctx.serving.ledger(stores, start_d, end_d)
    if product_id and len(ledger):
        ledger = ledger[ledger["product_id"] == product_id]
    if ledger.empty:
        msg = (
            t("waste.none_range", lang)
            + " "
            + t("waste.span", lang, start=fmt_day(span[0], lang), end=fmt_day(span[1], lang))
        )
        return notice(msg, id=f"{P}-empty"), waste_figure(pd.DataFrame(), measure, lang), "", "", ""
    tot = ledger_totals(ledger)
    tiles = [
        kpi(t("waste.kpi.waste", lang), fmt_eur(tot["wasted_eur"], lang)),
        kpi(t("waste.kpi.lost", lang), fmt_eur(tot["lost_sales_eur"], lang)),
        kpi(t("waste.kpi.share", lang), fmt_pct(tot["waste_share"], lang)),
        kpi(
            t("waste.kpi.units", lang),
            f"{fmt_count(tot['wasted'], lang)} / {fmt_count(tot['lost_sales'], lang)}",
        ),
    ]
    notes = [t("waste.period_text", lang, start=fmt_day(start_d, lang), end=fmt_day(end_d, lang))]
    if tot["unknown_lost"]:
        n = tot["unknown_lost"]
        notes.append(
            t("waste.unknown_lost_1", lang) if n == 1 else t("waste.unknown_lost", lang, n=fmt_count(n, lang))
        )
    head = html.Div(
        [html.Div(tiles, className="kpis", id=f"{P}-tiles"), html.P(" · ".join(notes), className="muted")]
    )
    daily = ledger.groupby("date", as_index=False)[[*UNITS, *EUROS]].sum(min_count=1)
    names = {o["value"]: o["label"] for o in visible_stores(ctx, principal)}
    cols = [
        ("store", t("common.store", lang)),
        ("baked", t("waste.col.baked", lang)),
        ("sold", t("waste.col.sold", lang)),
        ("wasted", t("waste.col.wasted", lang)),
        ("lost_sales", t("waste.col.lost", lang)),
        ("baked_eur", t("waste.col.baked_eur", lang)),
        ("sold_eur", t("waste.col.sold_eur", lang)),
        ("wasted_eur", t("waste.col.wasted_eur", lang)),
        ("lost_sales_eur", t("waste.col.lost_eur", lang)),
        ("share", t("waste.kpi.share", lang)),
    ]
    per_store = table(store_rows(ledger, names, lang), cols, id=f"{P}-table", lang=lang)
    plan = ctx.serving.bake_plans(stores, start_d, end_d)
    if product_id and len(plan):
        plan = plan[plan["product_id"] == product_id]
    scores = ctx.serving.override_scores(stores, start_d, end_d)
    if product_id and len(scores):
        scores = scores[scores["product_id"] == product_id]
    return (
        head,
        waste_figure(daily, measure, lang),
        per_store,
        compare_view(ctx, plan, ledger, names, lang),
        fva_view(scores, lang),
    )


def register(app: Any, ctx: AppContext) -> None:
    @app.callback(
        Output(f"{P}-kpis", "children"),
        Output(f"{P}-graph", "figure"),
        Output(f"{P}-stores", "children"),
        Output(f"{P}-compare", "children"),
        Output(f"{P}-fva", "children"),
        Input(f"{P}-range", "start_date"),
        Input(f"{P}-range", "end_date"),
        Input(f"{P}-store", "value"),
        Input(f"{P}-product", "value"),
        Input(f"{P}-measure", "value"),
    )
    @secured(STAFF)
    def _update(principal, lang, start, end, store_id, product_id, measure):
        return waste_view(ctx, principal, lang, start, end, store_id, product_id, measure)


PAGE = Page("/waste", STAFF, "nav.waste", layout, register)
