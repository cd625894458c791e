"""Per-request security: who is calling (session, bearer token or Databricks headers), CSRF, headers."""

from __future__ import annotations

import ipaddress
import logging
import secrets
import time
from urllib.parse import quote

import flask
from flask import g, jsonify, redirect, request, session
from flask.sessions import SecureCookieSessionInterface

from bakery.app import audit
from bakery.app.auth import Principal
from bakery.app.context import AppContext
from bakery.app.i18n import choose

log = logging.getLogger(__name__)

PUBLIC_PATHS = {
    "/login",
    "/favicon.ico",
    "/_favicon.ico",
    "/api/v1/health",
    "/api/v1/openapi.json",
    "/api/v1/auth/token",
    "/lang",
    "/metrics",  # answers the configured scrapers only (bakery.app.server.metrics)
}
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/_favicon")
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_COOKIE = "_csrf_token"  # dash-renderer copies this cookie into an X-CSRFToken header
LANG_COOKIE = "bakery_lang"
_MAX_HOPS = 20  # X-Forwarded-For entries looked at, from the right
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Dash needs its own scripts plus the hashed inline line that starts its renderer; its components and Plotly
# set inline styles. Images and fonts only from the app (and data: URIs Plotly makes), never another host.
_CSP = (
    "default-src 'self'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'self'; object-src 'none'"
)


def current_principal() -> Principal | None:
    return g.get("principal")


def current_lang() -> str:
    ctx: AppContext | None = flask.current_app.extensions.get("bakery")
    default = ctx.options.get("default_language") if ctx else "es"
    return choose(request.cookies.get(LANG_COOKIE) if flask.has_request_context() else None, default)


def _ctx() -> AppContext | None:
    return flask.current_app.extensions.get("bakery")


def _address(value: str) -> IPAddress | None:
    """An address from a header entry, with any port dropped ("1.2.3.4:5", "[::1]:5"); None if it is none."""
    value = value.strip()
    if value.startswith("[") and "]" in value:
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _trusted(addr: IPAddress | None, ctx: AppContext | None) -> bool:
    return addr is not None and ctx is not None and any(addr in net for net in ctx.trusted_proxies)


def _via_trusted_proxy() -> bool:
    return _trusted(_address(request.remote_addr or ""), _ctx())


def client_ip() -> str:
    """The client's address, decided here only: the direct peer, or, when that peer is a trusted proxy
    (server.trusted_proxies), the right-most X-Forwarded-For entry that is not a trusted proxy itself. Entries
    further left are whatever the client wrote, so they are never believed."""
    peer = request.remote_addr or "-"
    if not _via_trusted_proxy():
        return peer
    hops = ",".join(request.headers.getlist("X-Forwarded-For")).split(",")[-_MAX_HOPS:]
    found = peer
    for raw in reversed(hops):
        addr = _address(raw)
        if addr is None:  # garbage or a missing header: the last trusted hop is all that is known
            break
        found = str(addr)
        if not _trusted(addr, _ctx()):
            break
    return found


def request_is_tls() -> bool:
    """The browser reached us over HTTPS: directly, or as X-Forwarded-Proto from a trusted proxy."""
    if request.scheme == "https":
        return True
    proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return proto == "https" and _via_trusted_proxy()


def cookies_secure(ctx: AppContext) -> bool:
    """Whether cookies get the Secure flag: auth.cookie_secure true/false, or (auto) a non-loopback listener
    or a request that arrived over HTTPS."""
    setting = ctx.conf.get("auth.cookie_secure", "auto")
    if setting != "auto":
        return bool(setting)
    return ctx.secure_cookies or (flask.has_request_context() and request_is_tls())


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session with the Secure flag decided per request (TLS behind a proxy)."""

    def get_cookie_secure(self, app: flask.Flask) -> bool:
        ctx = app.extensions.get("bakery")
        return cookies_secure(ctx) if ctx is not None else super().get_cookie_secure(app)


def allow_inline_scripts(ctx: AppContext, hashes: list[str] | tuple[str, ...]) -> None:
    """Let pages run these inline scripts (CSP hashes, e.g. from `dash.Dash.csp_hashes()`) and no others."""
    ctx.script_hashes = tuple(hashes)


def content_security_policy(ctx: AppContext) -> str:
    return _CSP.format(hashes="".join(f" {h}" for h in ctx.script_hashes))


def csrf_token() -> str:
    """The signed-in browser's CSRF token (created on first use)."""
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
    # parsed now, so that a bad entry stops the app at start-up rather than failing every request
    log.debug("trusted proxies: %s", ", ".join(map(str, ctx.trusted_proxies)) or "none")
    server.session_interface = _SessionInterface()

    @server.before_request
    def _authenticate():
        path = request.path
        is_api = path.startswith("/api/")
        if ctx.databricks_identity:
            identity = request.headers.get("X-Forwarded-Email") or request.headers.get(
                "X-Forwarded-Preferred-Username"
            )
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
            audit.record(
                ctx.db,
                principal.username if principal else "-",
                "access.denied",
                request.path[:500],
                success=False,
                ip=client_ip(),
                method=request.method,
                reason=reason,
            )
        return resp

    hsts = int(ctx.conf.get("server.hsts_seconds", 31536000) or 0)

    @server.after_request
    def _headers(resp: flask.Response) -> flask.Response:
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("Content-Security-Policy", content_security_policy(ctx))
        if hsts > 0 and request_is_tls():
            resp.headers.setdefault("Strict-Transport-Security", f"max-age={hsts}")
        if not request.path.startswith(PUBLIC_PREFIXES):
            resp.headers.setdefault("Cache-Control", "no-store")
        token = session.get("csrf")
        if token and request.cookies.get(CSRF_COOKIE) != token:
            resp.set_cookie(CSRF_COOKIE, token, secure=cookies_secure(ctx), httponly=False, samesite="Strict")
        return resp
