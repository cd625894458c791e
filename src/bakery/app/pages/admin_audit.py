"""Audit page (admins): the append-only log of logins, uploads, deletions, role and setting changes."""

from __future__ import annotations

import json
from typing import Any

from dash import Input, Output, State, dcc, html

from bakery.app import audit
from bakery.app.auth import ADMIN, Principal
from bakery.app.context import AppContext
from bakery.app.i18n import t
from bakery.app.pages import Page
from bakery.app.pages.common import card, field, page_header, secured, table

P = "audit"
ACTIONS = ("login", "logout", "token", "user", "setting", "upload", "event", "access")
PAGE_SIZE = 100


def layout(ctx: AppContext, principal: Principal, lang: str, query: dict[str, list[str]]) -> Any:
    return html.Div(
        [
            page_header(t("au.title", lang)),
            html.Div(
                [
                    field(
                        t("au.filter_action", lang),
                        dcc.Dropdown(
                            id=f"{P}-action", options=list(ACTIONS), placeholder=t("common.choose", lang)
                        ),
                    ),
                    field(t("au.filter_actor", lang), dcc.Input(id=f"{P}-actor", type="text", debounce=True)),
                    html.Button(t("au.more", lang), id=f"{P}-more", n_clicks=0, className="button small"),
                ],
                className="controls",
            ),
            card(None, html.Div(id=f"{P}-total", className="muted"), html.Div(id=f"{P}-table")),
        ]
    )


def audit_view(
    ctx: AppContext, principal: Principal, lang: str, action: str | None, actor: str | None, pages: int
) -> tuple[str, Any]:
    rows, total = audit.query(
        ctx.db,
        audit.AuditQuery(
            action=action if action in ACTIONS else None,
            actor=(actor or "").strip().lower() or None,
            limit=PAGE_SIZE * max(1, min(pages, 50)),
        ),
    )
    shown = [
        {
            **r,
            "at": r["at"].replace("T", " ")[:19],
            "detail": json.dumps(r["detail"], ensure_ascii=False)[:200] if r["detail"] else "",
            "_class": "" if r["success"] else "sev-warning",
        }
        for r in rows
    ]
    return t("au.total", lang, n=total), table(
        shown,
        [
            ("at", t("au.at", lang)),
            ("actor", t("au.actor", lang)),
            ("action", t("au.action", lang)),
            ("target", t("au.target", lang)),
            ("success", t("au.ok", lang)),
            ("ip", t("au.ip", lang)),
            ("detail", t("au.detail", lang)),
        ],
        id=f"{P}-rows",
        lang=lang,
    )


def register(app: Any, ctx: AppContext) -> None:
    @app.callback(
        Output(f"{P}-total", "children"),
        Output(f"{P}-table", "children"),
        Input(f"{P}-action", "value"),
        Input(f"{P}-actor", "value"),
        Input(f"{P}-more", "n_clicks"),
        State(f"{P}-more", "n_clicks"),
    )
    @secured(ADMIN)
    def _update(principal, lang, action, actor, n_clicks, _state):
        return audit_view(ctx, principal, lang, action, actor, (n_clicks or 0) + 1)


PAGE = Page("/admin/audit", ADMIN, "nav.audit", layout, register, group="admin")
