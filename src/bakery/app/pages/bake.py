"""Hornear hoy: the store's bake plan for its next day, product by product, as cards that read on a phone at
6 am: how many to bake (in trays where the product has a batch size), the forecast behind it, and why the two
differ. Printing the page gives the sheet for the bakery wall (the print style drops the menu); the plan also
downloads as CSV.

A manager who knows better changes a product's quantity with a reason (and a note): a change beyond the confirm
factor of conf/bake_plan.yml asks for a confirmation and a note first (bakery.decisions.overrides). The card then
shows the new quantity, the plan's struck beside it, who changed it and why."""

from __future__ import annotations

from typing import Any

import dash
import pandas as pd
from dash import Input, Output, State, dcc, html

from bakery.app.auth import ALL_ROLES, Principal, check_store
from bakery.app.context import AppContext
from bakery.app.i18n import fmt_num, long_date, t
from bakery.app.overrides import OverrideError, OverrideRequest, overrides_in_force, save_override
from bakery.app.pages import Page
from bakery.app.pages.common import card, field, notice, page_header, secured, store_picker
from bakery.app.server.security import client_ip
from bakery.decisions.overrides import REASON_CODES, load_override_rules

P = "bake"
HIDDEN = {"display": "none"}


def override_form(lang: str) -> Any:
    """Change one product's quantity: folded under a tap-sized summary, so the cards come first on a phone."""
    return html.Details(
        [
            html.Summary(t("bake.ov.open", lang), className="button bake-ov-summary"),
            field(
                t("bake.ov.product", lang),
                dcc.Dropdown(id=f"{P}-ov-product", clearable=False, searchable=False, options=[]),
            ),
            field(
                t("bake.ov.quantity", lang),
                dcc.Input(id=f"{P}-ov-quantity", type="text", inputMode="numeric", maxLength=7, value=""),
            ),
            field(
                t("bake.ov.reason", lang),
                dcc.Dropdown(
                    id=f"{P}-ov-reason",
                    clearable=False,
                    searchable=False,
                    value="event",
                    options=[{"label": t(f"bake.ov.reason.{k}", lang), "value": k} for k in REASON_CODES],
                ),
            ),
            field(t("bake.ov.note", lang), dcc.Textarea(id=f"{P}-ov-note", value="", maxLength=500)),
            html.Div(
                dcc.Checklist(
                    id=f"{P}-ov-confirm",
                    options=[{"label": t("bake.ov.confirm", lang), "value": "yes"}],
                    value=[],
                    className="bake-ov-confirm",
                ),
                id=f"{P}-ov-confirm-row",
                style=HIDDEN,
            ),
            html.Div(
                html.Button(
                    t("bake.ov.save", lang), id=f"{P}-ov-save", n_clicks=0, className="button primary"
                ),
                className="button-row",
            ),
            html.Div(id=f"{P}-ov-message"),
        ],
        className="bake-ov-form no-print",
        id=f"{P}-ov-form",
    )


def layout(ctx: AppContext, principal: Principal, lang: str, query: dict[str, list[str]]) -> Any:
    return html.Div(
        [
            page_header(t("bake.title", lang)),
            html.Div([store_picker(P, ctx, principal, lang)], className="controls no-print"),
            card(None, override_form(lang), cls="card no-print"),
            card(None, html.Div(id=f"{P}-plan")),
        ]
    )


def _override_lines(r: Any, override: dict[str, Any] | None, lang: str) -> list[Any]:
    if not override:
        return []
    reason = t(f"bake.ov.reason.{override['reason_code']}", lang)
    by = t("bake.ov.by", lang, by=override["by"], reason=reason)
    return [
        html.Div(
            [
                html.S(t("bake.ov.plan", lang, n=fmt_num(r.quantity, lang)), className="bake-plan-qty"),
                " ",
                by,
            ],
            className="muted bake-override",
        ),
        *([html.Div(override["note"], className="bake-ov-note")] if override.get("note") else []),
    ]


def plan_card(r: Any, name: str, lang: str, override: dict[str, Any] | None = None) -> Any:
    """One product: the quantity to bake large (the manager's when overridden, the plan's struck beside it), trays
    when batched, the forecast and the reason in words."""
    qty = t("bake.qty", lang, n=fmt_num(override["quantity"] if override else r.quantity, lang))
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
            *_override_lines(r, override, lang),
            *([] if override else trays),
            html.Div(r.reason or "", className="alert-msg"),
            html.Div(facts, className="muted alert-facts"),
            *([html.Div(r.degraded_reason, className="muted")] if r.degraded else []),
        ],
        className="alert-card bake-card"
        + (" sev-warning" if r.degraded else "")
        + (" bake-overridden" if override else ""),
        id={"type": f"{P}-card", "product": str(r.product_id)},
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
        html.Div(
            [
                html.A(t("bake.pdf", lang), href=f"/download/bake-plan/{store_id}.pdf", id=f"{P}-pdf"),
                html.A(t("bake.csv", lang), href=f"/download/bake-plan/{store_id}.csv", id=f"{P}-csv"),
            ],
            className="no-print bake-downloads",
        ),
    ]
    if plan["degraded"].any():
        header.append(notice(t("bake.degraded", lang), "warn", id=f"{P}-degraded"))
    overrides = overrides_in_force(ctx.db, store_id, day)
    cards = [
        plan_card(r, names.get(r.product_id, r.product_id), lang, overrides.get(r.product_id))
        for r in plan.itertuples()
    ]
    return html.Div([*header, html.Ul(cards, className="alert-list", id=f"{P}-list")])


def product_options(ctx: AppContext, principal: Principal, store_id: str | None) -> list[dict[str, str]]:
    """The products of the store's plan, for the override form ([] without a store or a plan)."""
    if not store_id:
        return []
    check_store(principal, store_id)
    plan = ctx.serving.bake_plan(store_id)
    if plan.empty:
        return []
    names = ctx.serving.product_names()
    return [
        {"label": f"{names.get(p, p)} ({p})" if names.get(p, p) != p else p, "value": p}
        for p in sorted(plan["product_id"])
    ]


def _error_text(
    exc: OverrideError, lang: str, plan_quantity: float, quantity: Any, max_quantity: float
) -> str:
    return t(
        f"bake.ov.err.{exc.field}.{exc.code}",
        lang,
        value=str(quantity or "").strip(),
        max=fmt_num(max_quantity, lang),
        n=str(quantity or "").strip(),
        plan=fmt_num(plan_quantity, lang),
    )


def override(
    ctx: AppContext,
    principal: Principal,
    lang: str,
    store_id: str | None,
    product_id: str | None,
    quantity: Any,
    reason_code: str | None,
    note: str | None,
    confirmed: bool,
) -> tuple[Any, bool, bool]:
    """Save one override from the form: (message, saved, confirmation asked). The plan quantity and the day come
    from the served plan, never from the form; the store is checked before anything is written."""
    if not store_id:
        return notice(t("bake.no_store", lang), "error", id=f"{P}-ov-error"), False, False
    check_store(principal, store_id)
    plan = ctx.serving.bake_plan(store_id)
    row = plan[plan["product_id"] == product_id] if len(plan) else plan
    if not product_id or row.empty:
        return notice(t("bake.ov.err.product", lang), "error", id=f"{P}-ov-error"), False, False
    plan_quantity = float(row["quantity"].iloc[0])
    day = pd.Timestamp(row["date"].iloc[0]).date()
    rules = load_override_rules(ctx.settings.conf_dir)
    req = OverrideRequest(store_id, product_id, day, plan_quantity, quantity, reason_code, note, confirmed)
    try:
        saved = save_override(ctx.settings, ctx.db, principal, req, rules, ip=client_ip())
    except OverrideError as exc:
        text = _error_text(exc, lang, plan_quantity, quantity, rules.max_quantity)
        asked = exc.field in ("confirm", "note") and exc.code in ("needed", "required")
        return notice(text, "warn" if asked else "error", id=f"{P}-ov-error"), False, asked
    name = ctx.serving.product_names().get(product_id, product_id)
    text = t(
        "bake.ov.saved",
        lang,
        product=name,
        plan=fmt_num(plan_quantity, lang),
        n=fmt_num(saved["quantity"], lang),
    )
    return notice(text, "ok", id=f"{P}-ov-ok"), True, False


def register(app: Any, ctx: AppContext) -> None:
    @app.callback(
        Output(f"{P}-plan", "children"),
        Output(f"{P}-ov-product", "options"),
        Input(f"{P}-store", "value"),
    )
    @secured(ALL_ROLES)
    def _update(principal, lang, store_id):
        return plan_view(ctx, principal, lang, store_id), product_options(ctx, principal, store_id)

    @app.callback(
        Output(f"{P}-ov-message", "children"),
        Output(f"{P}-plan", "children", allow_duplicate=True),
        Output(f"{P}-ov-confirm-row", "style"),
        Output(f"{P}-ov-quantity", "value"),
        Output(f"{P}-ov-note", "value"),
        Output(f"{P}-ov-confirm", "value"),
        Input(f"{P}-ov-save", "n_clicks"),
        State(f"{P}-store", "value"),
        State(f"{P}-ov-product", "value"),
        State(f"{P}-ov-quantity", "value"),
        State(f"{P}-ov-reason", "value"),
        State(f"{P}-ov-note", "value"),
        State(f"{P}-ov-confirm", "value"),
        prevent_initial_call=True,
    )
    @secured(ALL_ROLES)
    def _save(principal, lang, _clicks, store_id, product_id, quantity, reason_code, note, confirm):
        message, saved, asked = override(
            ctx, principal, lang, store_id, product_id, quantity, reason_code, note, "yes" in (confirm or [])
        )
        if saved:
            return message, plan_view(ctx, principal, lang, store_id), HIDDEN, "", "", []
        keep = dash.no_update
        return message, keep, ({} if asked else keep), keep, keep, keep


PAGE = Page("/bake", ALL_ROLES, "nav.bake", layout, register)
