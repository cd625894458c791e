"""Wires the app together: Flask server, security hooks, API, Dash shell, router and every page's callbacks."""

from __future__ import annotations

import ipaddress
import logging
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import dash
import flask
from dash import Input, Output, dcc, html
from dash.exceptions import DependencyException
from werkzeug.exceptions import InternalServerError

from bakery.app import audit, uploads
from bakery.app.appconf import AppConfig, load_app_config
from bakery.app.auth import STAFF, Authenticator, Principal, configure_hasher, load_secret_key
from bakery.app.context import AppContext
from bakery.app.db import Database
from bakery.app.i18n import t
from bakery.app.pages import Page, all_pages
from bakery.app.server import api, downloads, metrics, security, web
from bakery.app.server.security import api_error, client_ip, csrf_token, current_lang, current_principal
from bakery.app.serving import ServingData, make_serving
from bakery.app.settings_store import SettingsStore
from bakery.config import Settings

log = logging.getLogger(__name__)
ASSETS = Path(__file__).with_name("assets")


def warm_caches(ctx: AppContext) -> None:
    """Fill the serving cache (latest forecasts, recent sales, forecast lines) before the first visitor."""
    from bakery.app.pages import forecast

    ctx.serving.warm()
    try:
        forecast.prewarm(ctx, str(ctx.options.get("default_language")))
    except Exception:  # a broken table must not stop the server from starting
        log.exception("prewarming the forecast page failed")
    ctx.serving.warmed = True


def _secure_cookies(conf: AppConfig, host: str) -> bool:
    setting = conf.get("auth.cookie_secure", "auto")
    if setting != "auto":
        return bool(setting)
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host != "localhost"


def build_context(
    settings: Settings,
    conf: AppConfig | None = None,
    host: str = "127.0.0.1",
    serving: ServingData | None = None,
) -> AppContext:
    conf = conf or load_app_config(settings)
    configure_hasher(conf)
    db = Database(conf.database_url)
    return AppContext(
        settings=settings,
        conf=conf,
        db=db,
        auth=Authenticator(db, conf),
        serving=serving or make_serving(settings, conf),
        options=SettingsStore(db, conf),
        secure_cookies=_secure_cookies(conf, host),
    )


def _navbar(ctx: AppContext, principal: Principal, lang: str, pages: list[Page], path: str) -> Any:
    links = [
        dcc.Link(
            t(p.title, lang),
            href=p.path,
            className="nav-link active" if p.path == path else "nav-link",
            id=f"nav-{p.path.strip('/').replace('/', '-') or 'home'}",
        )
        for p in pages
        if principal.role in p.roles
    ]
    if principal.role in STAFF:
        for key, url in (
            ("nav.mlflow", ctx.conf.get("links.mlflow")),
            ("nav.dashboards", ctx.conf.get("links.dashboards")),
        ):
            if url:
                links.append(
                    html.A(t(key, lang), href=url, target="_blank", rel="noopener", className="nav-link ext")
                )
    other = "en" if lang == "es" else "es"
    user = html.Div(
        [
            html.Span(f"{principal.username} · {t('role.' + principal.role, lang)}", className="nav-user"),
            html.A(
                t("nav.language", lang),
                href=f"/lang?to={other}&next={path}",
                className="nav-lang",
                id="nav-lang",
            ),
            html.Form(
                [
                    dcc.Input(type="hidden", name="csrf_token", value=csrf_token()),
                    html.Button(
                        t("nav.logout", lang), type="submit", className="link-button", id="nav-logout"
                    ),
                ],
                method="POST",
                action="/logout",
                className="nav-logout",
            ),
        ],
        className="nav-right",
    )
    return html.Nav(
        [
            html.Div(html.Span(t("app.title", lang), className="brand-text"), className="brand"),
            html.Details(
                [html.Summary(t("nav.menu", lang)), html.Div(links, className="nav-links")],
                open=True,
                className="nav-menu",
            ),
            user,
        ],
        className="navbar",
    )


def _page_language(app: dash.Dash) -> None:
    """The page's <html> names the user's language, so that screen readers pronounce it as Spanish or English
    (Dash's own index page has no lang attribute)."""
    index = app.interpolate_index

    def interpolate_index(**kwargs: Any) -> str:
        return index(**kwargs).replace("<html>", f'<html lang="{current_lang()}">', 1)

    app.interpolate_index = interpolate_index


def install_error_pages(server: flask.Flask) -> None:
    """No answer carries a traceback: an unknown Dash bundle path (`/_dash-component-suites/...`) is a plain
    404, and any unexpected error a plain 500 (JSON under /api/ and /_dash). Flask logs the exception with
    its traceback (`log_exception`) before the handler runs."""

    def _plain(status: int, message: str) -> flask.Response:
        if flask.request.path.startswith(("/api/", "/_dash-update-component")):
            return api_error(status, message)
        return flask.Response(f"{message}\n", status=status, mimetype="text/plain")

    server.register_error_handler(DependencyException, lambda _exc: _plain(404, "not found"))
    server.register_error_handler(InternalServerError, lambda _exc: _plain(500, "internal error (logged)"))


def _shell() -> Any:
    return html.Div(
        [
            dcc.Location(id="url", refresh=False),
            html.Div(id="app-nav"),
            html.Main(id="app-page", className="page"),
        ],
        className="app",
    )


def create_app(
    settings: Settings,
    conf: AppConfig | None = None,
    host: str = "127.0.0.1",
    serving: ServingData | None = None,
    warm: bool = True,
) -> dash.Dash:
    """The Dash app on its own Flask server, with every route and callback registered."""
    ctx = build_context(settings, conf, host, serving)
    server = flask.Flask("bakery.app")
    server.config.update(
        SECRET_KEY=load_secret_key(ctx.conf),
        SESSION_COOKIE_NAME="bakery_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=ctx.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=float(ctx.conf.get("auth.session_hours", 8))),
        # Dash sends uploads base64-encoded inside JSON: about 4/3 of the file plus the form.
        MAX_CONTENT_LENGTH=int(int(ctx.conf.get("uploads.max_bytes", 50 * 2**20)) * 1.4) + 2**20,
    )
    server.extensions["bakery"] = ctx
    metrics.install(server, ctx)  # first: its timer starts before the sign-in check may answer
    security.install(server, ctx)
    web.install(server, ctx)
    api.install(server, ctx)
    downloads.install(server, ctx)
    install_error_pages(server)
    uploads.settle(ctx)  # an upload a crash interrupted is finished or undone

    app = dash.Dash(
        "bakery.app",
        server=server,
        assets_folder=str(ASSETS),
        title="Bakery",
        suppress_callback_exceptions=True,
        update_title=None,
        compress=False,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.layout = _shell
    _page_language(app)
    pages = all_pages()
    by_path = {p.path: p for p in pages}

    @app.callback(
        Output("app-page", "children"),
        Output("app-nav", "children"),
        Input("url", "pathname"),
        Input("url", "search"),
    )
    def route(pathname: str | None, search: str | None):
        principal = current_principal()
        if principal is None:
            flask.abort(401)
        lang = current_lang()
        path = pathname or "/"
        page = by_path.get(path)
        nav = _navbar(ctx, principal, lang, pages, path)
        if page is None:
            return html.Div(t("common.not_found", lang), className="notice notice-warn"), nav
        if principal.role not in page.roles:
            audit.record(ctx.db, principal.username, "access.denied", path, success=False, ip=client_ip())
            return html.Div(
                t("common.forbidden", lang), className="notice notice-error", id="page-forbidden"
            ), nav
        return page.layout(ctx, principal, lang, parse_qs((search or "").lstrip("?"))), nav

    for page in pages:
        page.register(app, ctx)
    security.allow_inline_scripts(ctx, app.csp_hashes())  # Dash's renderer start-up line, in the CSP
    if warm:
        threading.Thread(target=warm_caches, args=(ctx,), name="serving-warm", daemon=True).start()
    return app
