"""Audit page (admins): the append-only log of logins, uploads, deletions, role and setting changes."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, dcc, html

from bakery.app import audit
from bakery.app.auth import ADMIN, Principal
from bakery.app.context import AppContext
from bakery.app.formatting import fmt_instant
from bakery.app.i18n import TEXTS, t
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
                            id=f"{P}-action",
                            options=[{"label": t(f"au.group.{a}", lang), "value": a} for a in ACTIONS],
                            placeholder=t("common.choose", lang),
                        ),
                    ),
                    field(t("au.filter_actor", lang), dcc.Input(id=f"{P}-actor", type="text", debounce=True)),
                    html.Button(t("au.more", lang), id=f"{P}-more", n_clicks=0, className="button small"),
                ],
                className="controls",
            ),
            card(
                None,
                html.Div(id=f"{P}-total", className="muted"),
                html.Div(id=f"{P}-table"),
            ),
        ]
    )


def action_words(action: str, lang: str) -> str:
    """An audit action code (login.ok) as the app's words for it (Inicio de sesión); unknown codes as they are."""
    key = f"act.{action}"
    return t(key, lang) if key in TEXTS else action


def _value(v: Any, lang: str) -> str:
    if isinstance(v, bool):
        return t("common.yes" if v else "common.no", lang)
    if isinstance(v, list | tuple):
        return ", ".join(_value(x, lang) for x in v) or "–"
    if isinstance(v, dict):
        return "; ".join(f"{k}: {_value(x, lang)}" for k, x in v.items())
    if v is None:
        return "–"
    return t(f"role.{v}", lang) if isinstance(v, str) and f"role.{v}" in TEXTS else str(v)


def detail_text(detail: dict[str, Any] | None, lang: str) -> str:
    """An audit record's details as a line of text ("rol: Gerente de tienda · tiendas: S001"); a change as
    "before → after". Keys the app has no word for keep their own name."""
    if not detail:
        return ""
    parts = []
    for key, value in detail.items():
        label = t(f"det.{key}", lang) if f"det.{key}" in TEXTS else key
        if key == "changes" and isinstance(value, dict):
            for field_name, change in value.items():
                name = t(f"det.{field_name}", lang) if f"det.{field_name}" in TEXTS else field_name
                if isinstance(change, list | tuple) and len(change) == 2:
                    old, new = (_value(c, lang) for c in change)
                    parts.append(f"{name}: {t('det.arrow', lang, old=old, new=new)}")
                else:
                    parts.append(f"{name}: {_value(change, lang)}")
            continue
        parts.append(f"{label}: {_value(value, lang)}")
    return " · ".join(parts)[:400]


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
            "at": fmt_instant(r["at"], lang),
            "action": action_words(r["action"], lang),
            "detail": detail_text(r["detail"], lang),
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
