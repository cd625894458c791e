"""Building blocks shared by the pages: the callback guard, store/product pickers, tables, cards."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from typing import Any

from dash import dcc, html
from flask import abort
from plotly.io.json import to_json_plotly

from bakery.app.auth import Principal
from bakery.app.context import AppContext
from bakery.app.i18n import fmt_num, t
from bakery.app.plotly_locale import graph_config
from bakery.app.server.security import current_lang, current_principal

CHAIN = "__chain__"


def secured(roles: frozenset[str]) -> Callable:
    """Wrap a callback: 401 without a user, 403 for a role not in `roles`; pass (principal, lang, *inputs)."""

    def deco(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any) -> Any:
            principal = current_principal()
            if principal is None:
                abort(401)
            if principal.role not in roles:
                abort(403)
            return fn(principal, current_lang(), *args)

        return wrapper

    return deco


def visible_stores(ctx: AppContext, principal: Principal) -> list[dict[str, str]]:
    """Dropdown options: the stores this principal may see (managers: their own, even before data exists)."""
    df = ctx.serving.stores()
    names = dict(zip(df["store_id"], df["name"].fillna(df["store_id"]), strict=True)) if len(df) else {}
    ids = sorted(names) if principal.all_stores else sorted(principal.stores)
    return [{"label": f"{names.get(s, s)} ({s})" if names.get(s, s) != s else s, "value": s} for s in ids]


def store_picker(
    page: str,
    ctx: AppContext,
    principal: Principal,
    lang: str,
    *,
    chain: bool = False,
    value: str | None = None,
) -> Any:
    options = visible_stores(ctx, principal)
    if chain and principal.all_stores:
        options = [{"label": t("common.chain", lang), "value": CHAIN}, *options]
    default = value if value in [o["value"] for o in options] else (options[0]["value"] if options else None)
    return field(
        t("common.store", lang),
        dcc.Dropdown(
            id=f"{page}-store",
            options=options,
            value=default,
            clearable=False,
            searchable=True,
            placeholder=t("common.choose", lang),
        ),
    )


def product_options(ctx: AppContext, product_ids: Sequence[str] | None = None) -> list[dict[str, str]]:
    names = ctx.serving.product_names()
    ids = sorted(product_ids) if product_ids is not None else sorted(names)
    return [{"label": f"{names.get(p, p)}", "value": p} for p in ids]


def field(label: str, control: Any, cls: str = "field") -> Any:
    """A labelled control; a text box is tied to its label (`for`), so that the label names it for screen
    readers. Dropdowns get theirs from assets/a11y.js: their box is not the element that carries the id."""
    tied = isinstance(control, dcc.Input | dcc.Textarea) and getattr(control, "id", None)
    return html.Div(
        [html.Label(label, htmlFor=control.id) if tied else html.Label(label), control], className=cls
    )


def card(title: str | None, *children: Any, cls: str = "card") -> Any:
    return html.Section(([html.H3(title)] if title else []) + list(children), className=cls)


def notice(text: str, kind: str = "info", id: str | None = None) -> Any:
    props = {"id": id} if id else {}
    return html.Div(text, className=f"notice notice-{kind}", role="status", **props)


def kpi(label: str, value: str) -> Any:
    return html.Div(
        [html.Div(value, className="kpi-value"), html.Div(label, className="kpi-label")], className="kpi"
    )


def page_header(title: str, *extra: Any) -> Any:
    return html.Div([html.H2(title), *extra], className="page-header")


def table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[tuple[str, str]],
    *,
    id: str | None = None,
    lang: str = "es",
    numeric: Sequence[str] = (),
    digits: int = 0,
    empty: str | None = None,
) -> Any:
    """A plain responsive HTML table; numbers formatted for the language, everything else shown as plain text
    (data such as product or file names is never read as Markdown or markup)."""
    if not rows:
        return notice(empty or t("common.none", lang))
    head = html.Thead(html.Tr([html.Th(label) for _, label in columns]))
    body = []
    for r in rows:
        cells = []
        for key, _ in columns:
            v = r.get(key)
            if key in numeric and isinstance(v, int | float):
                cells.append(html.Td(fmt_num(v, lang, digits), className="num"))
            elif isinstance(v, bool):
                cells.append(html.Td(t("common.yes" if v else "common.no", lang)))
            else:
                text = "" if v is None else fmt_num(v, lang, 2) if isinstance(v, float) else str(v)
                cells.append(html.Td(text))
        body.append(html.Tr(cells, className=r.get("_class", "")))
    props = {"id": id} if id else {}
    return html.Div(
        html.Table([head, html.Tbody(body)], className="data-table"), className="table-wrap", **props
    )


def prebuilt(component: Any) -> dict[str, Any]:
    """A component as the plain JSON the browser receives, for a cached part of a hot page: each answer then
    serializes one dict instead of walking hundreds of components again."""
    return json.loads(to_json_plotly(component))


def graph(id: str, figure: dict[str, Any] | None = None, lang: str | None = None) -> Any:
    """A chart in the user's language: Spanish months, days and decimal comma on its axes (plotly_locale)."""
    return dcc.Graph(
        id=id,
        figure=figure or {"data": [], "layout": {"height": 320}},
        config={
            "displaylogo": False,
            "responsive": True,
            "modeBarButtonsToRemove": ["lasso2d", "select2d"],
            **graph_config(lang or current_lang()),
        },
        className="graph",
    )
