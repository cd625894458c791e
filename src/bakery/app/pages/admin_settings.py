"""Settings page (admins): global settings with their defaults; each change validated and audited."""

from __future__ import annotations

from typing import Any

from dash import ALL, Input, Output, State, dcc, html

from bakery.app.auth import ADMIN, Principal
from bakery.app.context import AppContext
from bakery.app.i18n import t
from bakery.app.pages import Page
from bakery.app.pages.common import card, notice, page_header, secured
from bakery.app.server.security import client_ip
from bakery.app.settings_store import SettingError

P = "settings"


def layout(ctx: AppContext, principal: Principal, lang: str, query: dict[str, list[str]]) -> Any:
    rows = []
    for s in ctx.options.all():
        control = dcc.Input(
            id={"type": f"{P}-input", "key": s.key}, value=str(s.value), type="text", debounce=True
        )
        rows.append(
            html.Tr(
                [
                    html.Td(t(f"set.{s.key}", lang)),
                    html.Td(control),
                    html.Td(str(s.default)),
                    html.Td(s.updated_by or ""),
                ]
            )
        )
    head = html.Thead(
        html.Tr([html.Th(t(k, lang)) for k in ("set.key", "set.value", "set.default", "set.by")])
    )
    return html.Div(
        [
            page_header(t("set.title", lang)),
            card(
                None,
                html.Div(
                    html.Table([head, html.Tbody(rows)], className="data-table", id=f"{P}-table"),
                    className="table-wrap",
                ),
                html.Button(t("common.save", lang), id=f"{P}-save", n_clicks=0, className="button primary"),
                html.Div(id=f"{P}-message"),
            ),
        ]
    )


def save(ctx: AppContext, principal: Principal, lang: str, keys: list[str], values: list[Any]) -> Any:
    """Validate every value first; store only if all are valid (no half-applied settings)."""
    changes, errors = {}, []
    for key, raw in zip(keys, values, strict=True):
        try:
            value = ctx.options.coerce(key, raw)
        except SettingError as exc:
            errors.append(str(exc))
            continue
        if value != ctx.options.get(key):
            changes[key] = value
    if errors:
        return notice("; ".join(errors), "error", id=f"{P}-error")
    for key, value in changes.items():
        ctx.options.set(key, value, actor=principal.username, ip=client_ip())
    return notice(t("common.saved", lang), "ok", id=f"{P}-ok")


def register(app: Any, ctx: AppContext) -> None:
    @app.callback(
        Output(f"{P}-message", "children"),
        Input(f"{P}-save", "n_clicks"),
        State({"type": f"{P}-input", "key": ALL}, "id"),
        State({"type": f"{P}-input", "key": ALL}, "value"),
        prevent_initial_call=True,
    )
    @secured(ADMIN)
    def _save(principal, lang, n_clicks, ids, values):
        return save(ctx, principal, lang, [i["key"] for i in ids], values)


PAGE = Page("/admin/settings", ADMIN, "nav.settings", layout, register, group="admin")
