"""App fixtures: a home with small synthetic serving tables, the app, users per role, a live HTTP server."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from bakery.app.accounts import create_user
from bakery.app.app import create_app
from bakery.app.appconf import load_app_config
from bakery.config import Settings, load_settings
from tests.app.sample_tables import write_sample_tables

PASSWORDS = {
    "admin": "admin-pass-123",
    "ana": "analyst-pass-123",
    "mgr": "manager-pass-123",
    "mgr2": "manager2-pass-123",
}


def seed_users(db) -> None:
    create_user(db, "admin", "admin", None, PASSWORDS["admin"], actor="test")
    create_user(db, "ana", "analyst", None, PASSWORDS["ana"], actor="test")
    create_user(db, "mgr", "manager", "S01", PASSWORDS["mgr"], actor="test")
    create_user(db, "mgr2", "manager", "S02", PASSWORDS["mgr2"], actor="test")


# Cheap password hashing for tests (production cost comes from conf/app.yml).
FAST = {"auth": {"argon2": {"time_cost": 1, "memory_cost_kib": 1024, "parallelism": 1}}}
_TEMPLATE: dict[str, Path] = {}


def make_home(root: Path, forecasts: bool = True) -> Settings:
    """A home holding the small synthetic tables (written once per session, then copied)."""
    settings = load_settings(home=root / "home")
    key = "with" if forecasts else "without"
    if key not in _TEMPLATE:
        tpl = root.parent / f"_tables_{key}"
        if not tpl.exists():
            write_sample_tables(tpl, stores=2, products=4, days=70, with_forecasts=forecasts)
        _TEMPLATE[key] = tpl
    shutil.copytree(_TEMPLATE[key], settings.tables_dir)
    return settings


def build_app(settings: Settings, warm: bool = False, overrides: dict | None = None):
    conf = load_app_config(settings, {**FAST, **(overrides or {})})
    app = create_app(settings, conf=conf, warm=warm)
    seed_users(app.server.extensions["bakery"].db)
    return app


@pytest.fixture(autouse=True)
def _secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAKERY_SECRET_KEY", "test-only-session-key-0123456789")


@pytest.fixture
def app_settings(tmp_path: Path) -> Settings:
    return make_home(tmp_path)


@pytest.fixture
def dash_app(app_settings: Settings):
    return build_app(app_settings)


@pytest.fixture
def ctx(dash_app):
    return dash_app.server.extensions["bakery"]


def form_login(url: str, username: str) -> requests.Session:
    """A session signed in through the login form, as a browser does (CSRF token from the page, then POST)."""
    s = requests.Session()
    page = s.get(f"{url}/login", timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = s.post(
        f"{url}/login",
        data={"username": username, "password": PASSWORDS[username], "csrf_token": csrf, "next": "/"},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 302, r.text
    return s


def callback_body(app, outputs: list[tuple[str, str]], inputs: list[tuple], state: list[tuple] = ()) -> dict:
    """The JSON dash-renderer POSTs to /_dash-update-component for one callback."""
    multi = len(outputs) > 1
    key = "...".join(f"{i}.{p}" for i, p in outputs)
    key = f"..{key}.." if multi else key
    # outputs declared with allow_duplicate carry an "@<hash>" suffix in the callback's key
    key = next((k for k in app.callback_map if re.sub(r"@[0-9a-f]+", "", k) == key), key)
    props = [p for p in re.findall(r"\.([a-z_]+(?:@[0-9a-f]+)?)(?=\.\.|$)", key)]
    props = props if len(props) == len(outputs) else [p for _, p in outputs]
    return {
        "output": key,
        "outputs": [{"id": i, "property": p} for (i, _), p in zip(outputs, props, strict=True)]
        if multi
        else {"id": outputs[0][0], "property": props[0]},
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
        "changedPropIds": [f"{inputs[0][0]}.{inputs[0][1]}"] if inputs else [],
    }


class DashClient:
    """A browser-like client of the Flask test server: logs in through the form, calls Dash callbacks."""

    def __init__(self, app) -> None:
        self.app = app
        self.client = app.server.test_client()

    def login(self, username: str, password: str | None = None):
        page = self.client.get("/login").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        return self.client.post(
            "/login",
            data={
                "username": username,
                "password": password or PASSWORDS[username],
                "csrf_token": csrf,
                "next": "/",
            },
        )

    @property
    def csrf(self) -> str:
        cookie = self.client.get_cookie("_csrf_token")
        return cookie.value if cookie else ""

    def call(
        self, outputs: list[tuple[str, str]], inputs: list[tuple], state: list[tuple] = (), csrf: bool = True
    ):
        """POST one callback the way dash-renderer does; returns the Flask response."""
        headers = {"X-CSRFToken": self.csrf} if csrf else {}
        body = callback_body(self.app, outputs, inputs, state)
        return self.client.post("/_dash-update-component", json=body, headers=headers)

    def page(self, path: str):
        return self.call(
            [("app-page", "children"), ("app-nav", "children")],
            [("url", "pathname", path), ("url", "search", "")],
        )


@pytest.fixture
def browser_client(dash_app):
    def make(username: str | None = None) -> DashClient:
        c = DashClient(dash_app)
        if username:
            assert c.login(username).status_code == 302
        return c

    return make


class LiveServer:
    def __init__(self, app, settings: Settings) -> None:
        self.app, self.settings = app, settings
        self.server = make_server("127.0.0.1", 0, app.server, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def ctx(self):
        return self.app.server.extensions["bakery"]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real HTTP server on 127.0.0.1 (threaded Werkzeug) over a module-wide home."""
    settings = make_home(tmp_path_factory.mktemp("live"))
    srv = LiveServer(build_app(settings, warm=True), settings)
    srv.thread.start()
    yield srv
    srv.server.shutdown()
    srv.thread.join(timeout=5)
