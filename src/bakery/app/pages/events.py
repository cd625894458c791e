"""Events page: managers enter local events and promotions for their stores; the next daily run takes them in.

A pending event (one the next run has not taken yet) can still be changed or withdrawn; the same event entered twice
is refused with a warning; dates are written dd/mm/aaaa.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import dash
import pandas as pd
from dash import ALL, Input, Output, State, dcc, html

from bakery.app.auth import ALL_ROLES, Principal
from bakery.app.context import AppContext
from bakery.app.events import (
    EVENT_TYPES,
    EventError,
    app_events,
    check_form,
    is_duplicate,
    pending_event,
    submit_event,
    withdraw_event,
)
from bakery.app.i18n import fmt_date, t
from bakery.app.pages import Page
from bakery.app.pages.common import card, field, notice, page_header, secured, store_picker, visible_stores
from bakery.app.server.security import client_ip

P = "events"
SOURCE = "events"


def _date_input(id: str, lang: str, value: str) -> Any:
    return dcc.Input(
        id=id,
        type="text",
        value=value,
        placeholder=t("ev.date_format", lang),
        inputMode="numeric",
        maxLength=10,
        autoComplete="off",
    )


def layout(ctx: AppContext, principal: Principal, lang: str, query: dict[str, list[str]]) -> Any:
    tomorrow = fmt_date(dt.date.today() + dt.timedelta(days=1), "es")
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
                    searchable=False,
                    placeholder=t("common.choose", lang),
                    options=[{"label": t(f"ev.type.{k}", lang), "value": k} for k in EVENT_TYPES],
                ),
            ),
            field(
                f"{t('ev.start', lang)} ({t('ev.date_format', lang)})",
                _date_input(f"{P}-start", lang, tomorrow),
            ),
            field(
                f"{t('ev.end', lang)} ({t('ev.date_format', lang)})", _date_input(f"{P}-end", lang, tomorrow)
            ),
            html.Div(
                [
                    html.Button(
                        t("ev.submit", lang), id=f"{P}-submit", n_clicks=0, className="button primary"
                    ),
                    html.Button(
                        t("common.cancel", lang),
                        id=f"{P}-cancel",
                        n_clicks=0,
                        className="button",
                        style={"display": "none"},
                    ),
                ],
                className="button-row",
            ),
        ],
        className="controls form",
    )
    return html.Div(
        [
            page_header(t("ev.title", lang)),
            html.P(t("ev.intro", lang), className="muted"),
            dcc.Store(id=f"{P}-editing", data=None),
            card(None, form, html.Div(id=f"{P}-message")),
            card(t("ev.list", lang), html.Div(id=f"{P}-list", children=events_list(ctx, principal, lang))),
        ]
    )


def events_list(ctx: AppContext, principal: Principal, lang: str) -> Any:
    """The events of the user's stores as cards, newest first; pending ones with Change and Delete buttons."""
    stores = [o["value"] for o in visible_stores(ctx, principal)]
    mine = app_events(ctx.settings, stores)
    if mine.empty:
        return notice(t("common.none", lang))
    loaded = ctx.serving.events(stores)
    keys = set()
    if len(loaded):
        keys = {
            (str(pd.Timestamp(r.event_date_start).date()), r.event_name, r.scope) for r in loaded.itertuples()
        }
    taken = ctx.serving.taken_files(SOURCE)
    names = {o["value"]: o["label"] for o in visible_stores(ctx, principal)}
    items = []
    for r in mine.itertuples():
        done = (r.event_date_start, r.event_name, r.scope) in keys or r.file in taken
        days = fmt_date(dt.date.fromisoformat(r.event_date_start), lang)
        if r.event_date_end != r.event_date_start:
            days += " \u2013 " + fmt_date(dt.date.fromisoformat(r.event_date_end), lang)
        kind = t(f"ev.type.{r.event_type}", lang) if r.event_type in EVENT_TYPES else r.event_type
        buttons = (
            []
            if done
            else [
                html.Button(
                    t("ev.edit", lang),
                    id={"type": f"{P}-edit", "file": r.file},
                    n_clicks=0,
                    className="button small",
                ),
                html.Button(
                    t("ev.delete", lang),
                    id={"type": f"{P}-delete", "file": r.file},
                    n_clicks=0,
                    className="button small danger",
                ),
            ]
        )
        items.append(
            html.Li(
                [
                    html.Div([html.Strong(r.event_name), html.Span(f" · {kind}")]),
                    html.Div(
                        " · ".join(
                            [
                                days,
                                *([names.get(r.scope, r.scope)] if len(stores) > 1 else []),
                                t("ev.loaded" if done else "ev.pending", lang),
                            ]
                        ),
                        className="muted",
                    ),
                    *([html.Div(buttons, className="button-row")] if buttons else []),
                ],
                className="alert-card",
            )
        )
    return html.Ul(items, className="alert-list", id=f"{P}-table")


def add_event(
    ctx: AppContext,
    principal: Principal,
    lang: str,
    store_id: str | None,
    name: str | None,
    event_type: str | None,
    start: str | None,
    end: str | None,
    editing: str | None = None,
) -> tuple[Any, Any, bool]:
    """Validate and land one event (replacing the pending one being changed, if any); (message, refreshed list,
    saved). Scope is checked before anything is written; the same event twice is refused with a warning."""
    try:
        event = check_form(store_id, name, event_type, start, end)
        taken = ctx.serving.taken_files(SOURCE)
        if editing:
            pending_event(ctx.settings, principal, editing, taken)
        if is_duplicate(ctx.settings, ctx.serving.events([event.store_id]), event, skip_file=editing):
            msg = t("ev.duplicate", lang, name=event.name)
            return notice(msg, "warn", id=f"{P}-duplicate"), events_list(ctx, principal, lang), False
        submit_event(ctx.settings, ctx.db, principal, event, ip=client_ip())
        if editing:
            withdraw_event(ctx.settings, ctx.db, principal, editing, taken, ip=client_ip())
    except EventError as exc:
        text = t(exc.key, lang, reason=exc.detail) if exc.detail else t(exc.key, lang)
        return notice(text, "error", id=f"{P}-error"), events_list(ctx, principal, lang), False
    key = "ev.updated" if editing else "ev.saved"
    return notice(t(key, lang, name=event.name), "ok", id=f"{P}-ok"), events_list(ctx, principal, lang), True


def delete_event(ctx: AppContext, principal: Principal, lang: str, file: str) -> tuple[Any, Any]:
    """Withdraw a pending event; (message, refreshed list)."""
    try:
        event = withdraw_event(
            ctx.settings, ctx.db, principal, file, ctx.serving.taken_files(SOURCE), client_ip()
        )
    except EventError as exc:
        return notice(t(exc.key, lang), "error", id=f"{P}-error"), events_list(ctx, principal, lang)
    return notice(t("ev.deleted", lang, name=event.name), "ok", id=f"{P}-ok"), events_list(
        ctx, principal, lang
    )


def register(app: Any, ctx: AppContext) -> None:
    form = [
        Output(f"{P}-name", "value"),
        Output(f"{P}-type", "value"),
        Output(f"{P}-start", "value"),
        Output(f"{P}-end", "value"),
        Output(f"{P}-editing", "data"),
        Output(f"{P}-submit", "children"),
        Output(f"{P}-cancel", "style"),
    ]

    @app.callback(
        Output(f"{P}-message", "children"),
        Output(f"{P}-list", "children"),
        *form,
        Input(f"{P}-submit", "n_clicks"),
        Input(f"{P}-cancel", "n_clicks"),
        Input({"type": f"{P}-edit", "file": ALL}, "n_clicks"),
        Input({"type": f"{P}-delete", "file": ALL}, "n_clicks"),
        State(f"{P}-store", "value"),
        State(f"{P}-name", "value"),
        State(f"{P}-type", "value"),
        State(f"{P}-start", "value"),
        State(f"{P}-end", "value"),
        State(f"{P}-editing", "data"),
        prevent_initial_call=True,
    )
    @secured(ALL_ROLES)
    def _act(
        principal, lang, _submit, _cancel, edits, deletes, store_id, name, event_type, start, end, editing
    ):
        keep = [dash.no_update] * 4
        blank = ["", "promotion", "", ""]
        idle = [None, t("ev.submit", lang), {"display": "none"}]
        trigger = dash.ctx.triggered_id
        clicked = next((v for v in (dash.ctx.triggered or []) if v.get("value")), None)
        if isinstance(trigger, dict) and clicked:
            if trigger["type"] == f"{P}-delete":
                return *delete_event(ctx, principal, lang, trigger["file"]), *keep, *idle
            try:
                _, event = pending_event(
                    ctx.settings, principal, trigger["file"], ctx.serving.taken_files(SOURCE)
                )
            except EventError as exc:
                return notice(t(exc.key, lang), "error", id=f"{P}-error"), dash.no_update, *keep, *idle
            values = [event.name, event.event_type, fmt_date(event.start, "es"), fmt_date(event.end, "es")]
            editing_state = [trigger["file"], t("ev.update", lang), {}]
            return (
                notice(t("ev.editing", lang, name=event.name), id=f"{P}-editing-note"),
                dash.no_update,
                *values,
                *editing_state,
            )
        if trigger == f"{P}-cancel":
            return None, dash.no_update, *blank, *idle
        if trigger != f"{P}-submit":
            raise dash.exceptions.PreventUpdate
        message, listing, saved = add_event(
            ctx, principal, lang, store_id, name, event_type, start, end, editing
        )
        if saved:
            return message, listing, *blank, *idle
        return message, listing, *keep, dash.no_update, dash.no_update, dash.no_update


PAGE = Page("/events", ALL_ROLES, "nav.events", layout, register)
