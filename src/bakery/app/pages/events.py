"""Events page: managers enter local events and promotions for their stores; they flow into the next run."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from dash import Input, Output, State, dcc, html

from bakery.app.auth import ALL_ROLES, Principal
from bakery.app.context import AppContext
from bakery.app.events import EVENT_TYPES, EventError, app_events, check_form, submit_event
from bakery.app.i18n import t
from bakery.app.pages import Page
from bakery.app.pages.common import (
    card,
    field,
    notice,
    page_header,
    secured,
    store_picker,
    table,
    visible_stores,
)
from bakery.app.server.security import client_ip

P = "events"


def layout(ctx: AppContext, principal: Principal, lang: str, query: dict[str, list[str]]) -> Any:
    today = dt.date.today()
    form = html.Div(
        [
            store_picker(P, ctx, principal, lang),
            field(t("ev.name", lang), dcc.Input(id=f"{P}-name", type="text", maxLength=120, debounce=False)),
            field(
                t("ev.type", lang),
                dcc.Dropdown(
                    id=f"{P}-type",
                    value="promotion",
                    clearable=False,
                    options=[{"label": t(f"ev.type.{k}", lang), "value": k} for k in EVENT_TYPES],
                ),
            ),
            field(
                f"{t('ev.start', lang)} – {t('ev.end', lang)}",
                dcc.DatePickerRange(
                    id=f"{P}-dates",
                    start_date=today + dt.timedelta(days=1),
                    end_date=today + dt.timedelta(days=1),
                    display_format="YYYY-MM-DD",
                    first_day_of_week=1,
                    min_date_allowed=today - dt.timedelta(days=365),
                ),
            ),
            html.Button(t("ev.submit", lang), id=f"{P}-submit", n_clicks=0, className="button primary"),
        ],
        className="controls form",
    )
    return html.Div(
        [
            page_header(t("ev.title", lang)),
            html.P(t("ev.intro", lang), className="muted"),
            card(None, form, html.Div(id=f"{P}-message")),
            card(t("ev.list", lang), html.Div(id=f"{P}-list", children=events_list(ctx, principal, lang))),
        ]
    )


def events_list(ctx: AppContext, principal: Principal, lang: str) -> Any:
    stores = [o["value"] for o in visible_stores(ctx, principal)]
    mine = app_events(ctx.settings, stores)
    loaded = ctx.serving.events(stores)
    keys = set()
    if len(loaded):
        keys = {
            (str(pd.Timestamp(r.event_date_start).date()), r.event_name, r.scope) for r in loaded.itertuples()
        }
    rows = [
        {
            "store": r.scope,
            "name": r.event_name,
            "type": t(f"ev.type.{r.event_type}", lang) if r.event_type in EVENT_TYPES else r.event_type,
            "start": r.event_date_start,
            "end": r.event_date_end,
            "status": t(
                "ev.loaded" if (r.event_date_start, r.event_name, r.scope) in keys else "ev.pending", lang
            ),
        }
        for r in mine.itertuples()
    ]
    return table(
        rows,
        [
            ("store", t("common.store", lang)),
            ("name", t("ev.name", lang)),
            ("type", t("ev.type", lang)),
            ("start", t("ev.start", lang)),
            ("end", t("ev.end", lang)),
            ("status", t("common.status", lang)),
        ],
        id=f"{P}-table",
        lang=lang,
    )


def add_event(
    ctx: AppContext,
    principal: Principal,
    lang: str,
    store_id: str | None,
    name: str | None,
    event_type: str | None,
    start: str | None,
    end: str | None,
) -> tuple[Any, Any]:
    """Validate and land one event; (message, refreshed list). Scope is checked before anything is written."""
    try:
        event = check_form(store_id, name, event_type, start, end)
        submit_event(ctx.settings, ctx.db, principal, event, ip=client_ip())
    except EventError as exc:
        text = t(exc.key, lang, reason=exc.detail) if exc.detail else t(exc.key, lang)
        return notice(text, "error", id=f"{P}-error"), events_list(ctx, principal, lang)
    return notice(t("ev.saved", lang, name=event.name), "ok", id=f"{P}-ok"), events_list(ctx, principal, lang)


def register(app: Any, ctx: AppContext) -> None:
    @app.callback(
        Output(f"{P}-message", "children"),
        Output(f"{P}-list", "children"),
        Input(f"{P}-submit", "n_clicks"),
        State(f"{P}-store", "value"),
        State(f"{P}-name", "value"),
        State(f"{P}-type", "value"),
        State(f"{P}-dates", "start_date"),
        State(f"{P}-dates", "end_date"),
        prevent_initial_call=True,
    )
    @secured(ALL_ROLES)
    def _submit(principal, lang, n_clicks, store_id, name, event_type, start, end):
        return add_event(ctx, principal, lang, store_id, name, event_type, start, end)


PAGE = Page("/events", ALL_ROLES, "nav.events", layout, register)
