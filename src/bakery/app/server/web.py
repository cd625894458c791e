"""Browser routes outside Dash: the login form, logout, and the language switch."""

from __future__ import annotations

from urllib.parse import urlparse

import flask
from flask import redirect, request, session
from markupsafe import escape

from bakery.app.auth import LoginRefused
from bakery.app.context import AppContext
from bakery.app.i18n import LANGS, t
from bakery.app.server.security import (
    LANG_COOKIE,
    client_ip,
    cookies_secure,
    csrf_token,
    current_lang,
    start_session,
)

_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><link rel="stylesheet" href="/assets/app.css"></head>
<body class="login-body"><main class="login-card">
<h1>{app_title}</h1><h2>{title}</h2>{message}
<form method="post" action="/login" id="login-form">
<input type="hidden" name="csrf_token" value="{csrf}"><input type="hidden" name="next" value="{next}">
<label for="login-username">{user_label}</label>
<input id="login-username" name="username" autocomplete="username" required maxlength="200" value="{username}">
<label for="login-password">{password_label}</label>
<input id="login-password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
<button type="submit" id="login-submit">{submit}</button></form>
<p class="login-lang"><a href="/lang?to={other}&amp;next=/login">{other_label}</a></p>
</main></body></html>"""


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: never an open redirect."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if (
        parsed.scheme
        or parsed.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
    ):
        return "/"
    return target


def _render(
    lang: str, message: str = "", username: str = "", nxt: str = "/", status: int = 200
) -> flask.Response:
    other = "en" if lang == "es" else "es"
    html = _PAGE.format(
        lang=lang,
        title=escape(t("login.title", lang)),
        app_title=escape(t("app.title", lang)),
        message=f'<p class="login-error" role="alert">{escape(message)}</p>' if message else "",
        csrf=escape(csrf_token()),
        next=escape(nxt),
        user_label=escape(t("login.username", lang)),
        password_label=escape(t("login.password", lang)),
        username=escape(username),
        submit=escape(t("login.submit", lang)),
        other=other,
        other_label=escape(t("nav.language", lang)),
    )
    return flask.Response(html, status=status, mimetype="text/html")


def install(server: flask.Flask, ctx: AppContext) -> None:
    @server.get("/login")
    def login_form():
        if ctx.databricks_identity:
            return redirect("/")
        return _render(current_lang(), nxt=_safe_next(request.args.get("next")))

    @server.post("/login")
    def login_submit():
        lang = current_lang()
        username = request.form.get("username", "")[:200]
        nxt = _safe_next(request.form.get("next"))
        sent, expected = request.form.get("csrf_token", ""), session.get("csrf")
        if not expected or sent != expected:
            return _render(lang, t("login.csrf", lang), username, nxt, status=400)
        try:
            principal = ctx.auth.login(username, request.form.get("password", ""), client_ip(), channel="web")
        except LoginRefused as exc:
            if exc.reason == "locked":
                msg = t("login.locked", lang, minutes=max(1, (exc.retry_after + 59) // 60))
            elif exc.reason == "throttled":
                msg = t("login.throttled", lang, seconds=exc.retry_after)
            else:
                msg = t("login.invalid", lang)
            return _render(lang, msg, username, nxt, status=429 if exc.reason != "invalid" else 401)
        start_session(ctx, principal)
        return redirect(nxt)

    @server.post("/logout")
    def logout():
        uid = session.get("uid")
        principal = flask.g.get("principal")
        if uid:  # ends every session of the user and revokes their API tokens
            ctx.auth.end_sessions(int(uid), ip=client_ip())
        if principal is not None:
            from bakery.app import audit

            audit.record(ctx.db, principal.username, "logout", ip=client_ip())
        session.clear()
        return redirect("/login")

    @server.get("/lang")
    def set_language():
        lang = request.args.get("to", "")
        resp = redirect(_safe_next(request.args.get("next")))
        if lang in LANGS:
            resp.set_cookie(
                LANG_COOKIE,
                lang,
                max_age=365 * 24 * 3600,
                samesite="Lax",
                secure=cookies_secure(ctx),
                httponly=True,
            )
        return resp
