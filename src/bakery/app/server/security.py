"""Per-request security: who is calling (session, bearer token or Databricks headers), CSRF, headers."""

from __future__ import annotations

import secrets
import time
from urllib.parse import quote

import flask
from flask import g, jsonify, redirect, request, session

from bakery.app import audit
from bakery.app.auth import Principal
from bakery.app.context import AppContext
from bakery.app.i18n import choose

PUBLIC_PATHS = {"/login", "/favicon.ico", "/_favicon.ico", "/api/v1/health", "/api/v1/openapi.json",
                "/api/v1/auth/token", "/lang"}
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/_favicon")
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_COOKIE = "_csrf_token"  # dash-renderer copies this cookie into an X-CSRFToken header
LANG_COOKIE = "bakery_lang"


def current_principal() -> Principal | None:
    return g.get("principal")


def current_lang() -> str:
    ctx: AppContext | None = flask.current_app.extensions.get("bakery")
    default = ctx.options.get("default_language") if ctx else "es"
    return choose(request.cookies.get(LANG_COOKIE) if flask.has_request_context() else None, default)


def client_ip() -> str:
    return request.remote_addr or "-"


def csrf_token() -> str:
    """This session's CSRF token (created on first use)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def start_session(ctx: AppContext, principal: Principal) -> None:
    """A fresh session for a successful login (fixation-safe: everything earlier is dropped)."""
    session.clear()
    session.permanent = True
    session["uid"] = principal.user_id
    session["nonce"] = ctx.auth.session_nonce(principal.user_id or 0)
    session["iat"] = int(time.time())
    session["csrf"] = secrets.token_urlsafe(24)


def _session_principal(ctx: AppContext) -> Principal | None:
    uid, nonce, iat = session.get("uid"), session.get("nonce"), session.get("iat", 0)
    if not uid or not nonce:
        return None
    if time.time() - float(iat) > ctx.auth.session_ttl.total_seconds():
        session.clear()
        return None
    return ctx.auth.session_principal(int(uid), str(nonce))


def _bearer_principal(ctx: AppContext) -> Principal | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return ctx.auth.token_principal(token.strip())


def _is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def api_error(status: int, message: str, parameter: str | None = None) -> flask.Response:
    body = {"error": {"status": status, "message": message}}
    if parameter:
        body["error"]["parameter"] = parameter
    resp = jsonify(body)
    resp.status_code = status
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="bakery"'
    return resp


def install(server: flask.Flask, ctx: AppContext) -> None:
    """Register the before/after request hooks on the Flask server."""

    @server.before_request
    def _authenticate():
        path = request.path
        is_api = path.startswith("/api/")
        if ctx.databricks_identity:
            identity = request.headers.get("X-Forwarded-Email") or request.headers.get("X-Forwarded-Preferred-Username")
            g.principal = ctx.auth.header_principal(identity)
        else:
            g.principal = _bearer_principal(ctx) if is_api else _session_principal(ctx)
        if _is_public(path):
            return None
        if g.principal is None:
            if is_api or path.startswith("/_dash") or request.method not in SAFE_METHODS:
                return api_error(401, "authentication required: sign in or send a bearer token")
            if ctx.databricks_identity:
                return flask.Response("not registered", status=403)
            return redirect(f"/login?next={quote(request.full_path.rstrip('?'), safe='/?=&')}")
        if request.method not in SAFE_METHODS and not is_api and not ctx.databricks_identity:
            sent = request.headers.get("X-CSRFToken") or request.form.get("csrf_token") or ""
            if not session.get("csrf") or not secrets.compare_digest(str(sent), str(session["csrf"])):
                return api_error(403, "missing or wrong CSRF token; reload the page")
        return None

    @server.after_request
    def _audit_denial(resp: flask.Response) -> flask.Response:
        # Every refusal on the server (API scope, downloads, callbacks, CSRF) leaves an audit row for the admins.
        if resp.status_code == 403:
            principal = current_principal()
            body = resp.get_json(silent=True) if resp.is_json else None
            reason = body.get("error", {}).get("message") if isinstance(body, dict) else None
            audit.record(ctx.db, principal.username if principal else "-", "access.denied", request.path[:500],
                         success=False, ip=client_ip(), method=request.method, reason=reason)
        return resp

    @server.after_request
    def _headers(resp: flask.Response) -> flask.Response:
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'; form-action 'self'; "
                                                          "base-uri 'self'; object-src 'none'")
        if not request.path.startswith(PUBLIC_PREFIXES):
            resp.headers.setdefault("Cache-Control", "no-store")
        token = session.get("csrf")
        if token and request.cookies.get(CSRF_COOKIE) != token:
            resp.set_cookie(CSRF_COOKIE, token, secure=ctx.secure_cookies, httponly=False, samesite="Strict")
        return resp
