"""Users page (admins): accounts, roles and store scopes; every change audited and ending the user's sessions."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, dcc, html

from bakery.app.accounts import AccountError, create_user, list_users, update_user
from bakery.app.auth import ADMIN, Principal
from bakery.app.context import AppContext
from bakery.app.db import ROLES
from bakery.app.i18n import TEXTS, t
from bakery.app.pages import Page
from bakery.app.pages.common import card, field, notice, page_header, secured, table
from bakery.app.server.security import client_ip

P = "users"


def users_table(ctx: AppContext, lang: str) -> Any:
    rows = [
        {
            "username": a.username,
            "role": t(f"role.{a.role}", lang),
            "stores": ", ".join(a.stores) or t("usr.all_stores", lang),
            "active": a.active,
        }
        for a in list_users(ctx.db)
    ]
    return table(
        rows,
        [
            ("username", t("usr.username", lang)),
            ("role", t("usr.role", lang)),
            ("stores", t("usr.stores", lang)),
            ("active", t("usr.active", lang)),
        ],
        id=f"{P}-table",
        lang=lang,
    )


def store_options(ctx: AppContext) -> list[dict[str, str]]:
    """Every store of the stores table, as "Name (S001)", for the managers' store pickers."""
    df = ctx.serving.stores()
    if not len(df):
        return []
    names = dict(zip(df["store_id"], df["name"].fillna(df["store_id"]), strict=True))
    return [
        {"label": f"{names[s]} ({s})" if names[s] != s else s, "value": s} for s in sorted(names, key=str)
    ]


def known_stores(ctx: AppContext) -> list[str]:
    return [o["value"] for o in store_options(ctx)]


def error_text(exc: AccountError, lang: str) -> str:
    """An account error in the reader's language (its English message when no text is defined for it)."""
    key = f"usr.err.{exc.code}"
    return t(key, lang, **exc.params) if exc.code and key in TEXTS else str(exc)


def _stores_dropdown(id: str, ctx: AppContext, lang: str) -> Any:
    return dcc.Dropdown(
        id=id,
        options=store_options(ctx),
        multi=True,
        placeholder=t("usr.stores_pick", lang),
    )


def _role_dropdown(id: str, lang: str, value: str | None = "manager") -> Any:
    return dcc.Dropdown(
        id=id,
        value=value,
        placeholder=t("common.choose", lang),
        clearable=value is None,
        options=[{"label": t(f"role.{r}", lang), "value": r} for r in ROLES],
    )


def layout(ctx: AppContext, principal: Principal, lang: str, query: dict[str, list[str]]) -> Any:
    names = [a.username for a in list_users(ctx.db)]
    create = html.Div(
        [
            field(t("usr.username", lang), dcc.Input(id=f"{P}-new-name", type="text", maxLength=200)),
            field(t("usr.role", lang), _role_dropdown(f"{P}-new-role", lang)),
            field(
                t("usr.stores", lang), _stores_dropdown(f"{P}-new-stores", ctx, lang), cls="field field-wide"
            ),
            field(
                t("usr.password", lang), dcc.Input(id=f"{P}-new-password", type="password", maxLength=1024)
            ),
            html.Button(t("usr.add", lang), id=f"{P}-create", n_clicks=0, className="button primary"),
        ],
        className="controls form",
    )
    edit = html.Div(
        [
            field(
                t("usr.username", lang),
                dcc.Dropdown(id=f"{P}-edit-name", options=names, placeholder=t("common.choose", lang)),
            ),
            field(t("usr.role", lang), _role_dropdown(f"{P}-edit-role", lang, None)),
            field(
                t("usr.stores", lang), _stores_dropdown(f"{P}-edit-stores", ctx, lang), cls="field field-wide"
            ),
            field(
                t("usr.active", lang),
                dcc.Checklist(id=f"{P}-edit-active", options=[{"label": "", "value": "on"}], value=["on"]),
            ),
            field(
                t("usr.password", lang),
                dcc.Input(
                    id=f"{P}-edit-password",
                    type="password",
                    maxLength=1024,
                    placeholder=t("usr.keep_password", lang),
                ),
            ),
            html.Button(t("usr.update", lang), id=f"{P}-update", n_clicks=0, className="button"),
        ],
        className="controls form",
    )
    return html.Div(
        [
            page_header(t("usr.title", lang)),
            card(t("usr.add", lang), create),
            card(t("usr.edit", lang), edit),
            html.Div(id=f"{P}-message"),
            card(None, html.Div(users_table(ctx, lang), id=f"{P}-list")),
        ]
    )


def create(
    ctx: AppContext,
    principal: Principal,
    lang: str,
    name: str | None,
    role: str | None,
    stores: str | list[str] | None,
    password: str | None,
) -> tuple[Any, Any]:
    try:
        account = create_user(
            ctx.db,
            name or "",
            role or "",
            stores,
            password or "",
            actor=principal.username,
            min_password_length=int(ctx.conf.get("auth.min_password_length", 10)),
            known_stores=known_stores(ctx),
            ip=client_ip(),
        )
    except AccountError as exc:
        return notice(error_text(exc, lang), "error", id=f"{P}-error"), users_table(ctx, lang)
    return notice(t("usr.created", lang, name=account.username), "ok", id=f"{P}-ok"), users_table(ctx, lang)


def update(
    ctx: AppContext,
    principal: Principal,
    lang: str,
    name: str | None,
    role: str | None,
    stores: str | list[str] | None,
    active: list[str] | None,
    password: str | None,
) -> tuple[Any, Any]:
    try:
        account = update_user(
            ctx.db,
            name or "",
            actor=principal.username,
            role=role or None,
            stores=stores if stores is not None else None,
            active="on" in (active or []),
            password=password or None,
            min_password_length=int(ctx.conf.get("auth.min_password_length", 10)),
            known_stores=known_stores(ctx),
            ip=client_ip(),
        )
    except AccountError as exc:
        return notice(error_text(exc, lang), "error", id=f"{P}-error"), users_table(ctx, lang)
    return notice(t("usr.updated", lang, name=account.username), "ok", id=f"{P}-ok"), users_table(ctx, lang)


def register(app: Any, ctx: AppContext) -> None:
    @app.callback(
        Output(f"{P}-message", "children"),
        Output(f"{P}-list", "children"),
        Input(f"{P}-create", "n_clicks"),
        Input(f"{P}-update", "n_clicks"),
        State(f"{P}-new-name", "value"),
        State(f"{P}-new-role", "value"),
        State(f"{P}-new-stores", "value"),
        State(f"{P}-new-password", "value"),
        State(f"{P}-edit-name", "value"),
        State(f"{P}-edit-role", "value"),
        State(f"{P}-edit-stores", "value"),
        State(f"{P}-edit-active", "value"),
        State(f"{P}-edit-password", "value"),
        prevent_initial_call=True,
    )
    @secured(ADMIN)
    def _save(
        principal,
        lang,
        n_create,
        n_update,
        name,
        role,
        stores,
        password,
        e_name,
        e_role,
        e_stores,
        e_active,
        e_password,
    ):
        from dash import ctx as dash_ctx

        if dash_ctx.triggered_id == f"{P}-create":
            return create(ctx, principal, lang, name, role, stores, password)
        return update(ctx, principal, lang, e_name, e_role, e_stores, e_active, e_password)

    @app.callback(
        Output(f"{P}-edit-role", "value"),
        Output(f"{P}-edit-stores", "value"),
        Output(f"{P}-edit-active", "value"),
        Input(f"{P}-edit-name", "value"),
        prevent_initial_call=True,
    )
    @secured(ADMIN)
    def _load(principal, lang, name):
        account = next((a for a in list_users(ctx.db) if a.username == name), None)
        if account is None:
            return None, [], ["on"]
        return account.role, list(account.stores), ["on"] if account.active else []


PAGE = Page("/admin/users", ADMIN, "nav.users", layout, register, group="admin")
