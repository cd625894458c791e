"""Behind a reverse proxy: the client address and HTTPS are believed only from trusted proxies; Secure cookies
and HSTS over HTTPS; the content security policy; no server banner; a private app database."""

from __future__ import annotations

import stat
import threading

import pytest
import requests
from werkzeug.serving import make_server

from bakery.app import audit
from bakery.app.db import Database
from bakery.app.server.serve import QuietRequestHandler
from tests.app.conftest import PASSWORDS, LiveServer, build_app, make_home


@pytest.fixture(scope="module")
def proxied(tmp_path_factory) -> LiveServer:
    """The app behind a proxy on 127.0.0.1 (trusted), served by the handler `bakery app` falls back to."""
    settings = make_home(tmp_path_factory.mktemp("proxied"))
    proxies = {"server": {"trusted_proxies": ["127.0.0.1", "10.0.0.0/8"]}}
    srv = LiveServer(build_app(settings, overrides=proxies), settings)
    srv.server = make_server(
        "127.0.0.1", 0, srv.app.server, threaded=True, request_handler=QuietRequestHandler
    )
    srv.url = f"http://127.0.0.1:{srv.server.server_port}"
    srv.thread = threading.Thread(target=srv.server.serve_forever, daemon=True)
    srv.thread.start()
    yield srv
    srv.server.shutdown()
    srv.thread.join(timeout=5)


def _failed_login_ip(srv: LiveServer, name: str, headers: dict[str, str]) -> str:
    r = requests.post(
        f"{srv.url}/api/v1/auth/token",
        json={"username": name, "password": "wrong"},
        headers=headers,
        timeout=10,
    )
    assert r.status_code == 401
    query = audit.AuditQuery(action="login.failed", actor=srv.ctx.auth.pseudonym(name), limit=1)
    rows, _ = audit.query(srv.ctx.db, query)
    return rows[0]["ip"]


@pytest.mark.parametrize(
    ("forwarded", "client"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the left entry is whatever the client wrote
        ("198.51.100.1, 10.1.2.3", "198.51.100.1"),  # a second trusted proxy is skipped
        ("[2001:db8::7]:4711, 10.1.2.3:80", "2001:db8::7"),
        ("not-an-address, 10.1.2.3", "10.1.2.3"),  # garbage: the last trusted hop is all that is known
        ("", "127.0.0.1"),
    ],
)
def test_the_client_address_is_read_from_trusted_proxies_only(proxied, live, forwarded, client):
    name = f"visitor-{forwarded}"
    assert _failed_login_ip(proxied, name, {"X-Forwarded-For": forwarded}) == client
    # a server that trusts no proxy ignores the header: anyone can write it
    assert _failed_login_ip(live, name, {"X-Forwarded-For": forwarded}) == "127.0.0.1"


def _set_cookies(r: requests.Response) -> dict[str, str]:
    return {c.split("=", 1)[0]: c for c in r.raw.headers.getlist("Set-Cookie")}


def test_https_behind_a_trusted_proxy_gets_secure_cookies_and_hsts(proxied, live):
    tls = {"X-Forwarded-Proto": "https"}
    page = requests.get(f"{proxied.url}/login", headers=tls, timeout=10)
    assert "Secure" in _set_cookies(page)["bakery_session"]
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
    lang = requests.get(f"{proxied.url}/lang?to=en", headers=tls, allow_redirects=False, timeout=10)
    assert "Secure" in _set_cookies(lang)["bakery_lang"]
    # the browser keeps Secure cookies for HTTPS; requests (speaking HTTP to the proxy's side) does not
    page = requests.get(f"{proxied.url}/login", headers=tls, timeout=10)
    session_cookie = _set_cookies(page)["bakery_session"].split(";")[0]
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    form = {"username": "mgr", "password": PASSWORDS["mgr"], "csrf_token": csrf}
    r = requests.post(
        f"{proxied.url}/login",
        headers={**tls, "Cookie": session_cookie},
        data=form,
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 302
    cookies = _set_cookies(r)
    assert "Secure" in cookies["bakery_session"] and "Secure" in cookies["_csrf_token"]
    # plain HTTP on loopback, or a claim of HTTPS from a peer that is not a trusted proxy: no Secure or HSTS
    for srv, headers in ((proxied, {}), (live, tls)):
        r = requests.get(f"{srv.url}/login", headers=headers, timeout=10)
        assert "Secure" not in _set_cookies(r)["bakery_session"]
        assert "Strict-Transport-Security" not in r.headers


def test_content_security_policy_allows_only_the_app_and_its_renderer(proxied):
    csp = requests.get(f"{proxied.url}/login", timeout=10).headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"].startswith("'self' 'sha256-") and "unsafe" not in directives["script-src"]
    assert directives["img-src"] == "'self' data:" and "http" not in csp
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"


def test_no_server_banner(proxied):
    r = requests.get(f"{proxied.url}/api/v1/health", timeout=10)
    assert r.status_code == 200 and "Server" not in r.headers


def test_the_app_database_is_private(tmp_path):
    path = tmp_path / "app" / "app.db"
    path.parent.mkdir()
    path.touch(mode=0o644)  # a home from before: world-readable
    path.with_name("app.db-wal").touch(mode=0o644)
    path.chmod(0o644)
    db = Database(f"sqlite:///{path}")
    db.user("anyone")
    for f in path.parent.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    fresh = tmp_path / "fresh" / "app.db"
    Database(f"sqlite:///{fresh}").user("anyone")
    assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in fresh.parent.iterdir()} == {
        "app.db": 0o600,
        "app.db-wal": 0o600,
        "app.db-shm": 0o600,
    }
