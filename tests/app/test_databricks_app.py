"""The web app as a Databricks App: app.yaml's command and environment, run as the platform runs them (no
shell, $DATABRICKS_APP_PORT substituted, `valueFrom` entries resolved from the app's resources), serve pages
and the API to users the platform's proxy names in X-Forwarded-* headers, reading through the SQL warehouse
reader (here its local stand-in). Outside the platform the same command refuses a non-loopback address."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from bakery.app.accounts import create_user
from bakery.app.appconf import load_app_config, with_serving_table
from bakery.app.db import Database
from bakery.app.server.serve import PLATFORM_ENV, identity_bind_refusal
from bakery.config import Settings
from tests import REPO_ROOT
from tests.app.conftest import make_home
from tests.app.statement_standin import StatementStandIn

APP_YAML = REPO_ROOT / "app.yaml"
BUNDLE_APP = REPO_ROOT / "jobs" / "resources" / "app.yml"
CATALOG = "bakery_staging"
SECRET = "test-only-app-secret-key-for-the-databricks-app"
USERS = {"marta@example.com": ("manager", "S01"), "ana@example.com": ("analyst", None)}


def _app_yaml() -> dict:
    return yaml.safe_load(APP_YAML.read_text(encoding="utf-8"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _command(port: int, host: str | None = None) -> list[str]:
    """app.yaml's command with the port the platform substitutes (and, run here, a loopback address)."""
    command = [str(port) if arg == "$DATABRICKS_APP_PORT" else arg for arg in _app_yaml()["command"]]
    if host is not None:
        command[command.index("--host") + 1] = host
    return command


def _environment(resolved: dict[str, str], platform: dict[str, str]) -> dict[str, str]:
    """app.yaml's `env` (each `valueFrom` resolved as the platform resolves the resource it names), plus what
    the platform itself sets; PATH puts this interpreter first so that the command's `python` is this one."""
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "LANG": "C.UTF-8", **platform}
    for item in _app_yaml()["env"]:
        env[item["name"]] = str(item["value"]) if "value" in item else resolved[item["valueFrom"]]
    return env


@pytest.fixture(scope="module")
def app_source(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The app's source directory as the platform holds it (the bundle root: src/ and conf/), with the home
    app.yaml names (lakehouse/) holding the sample tables and the registered users."""
    tmp_path = tmp_path_factory.mktemp("databricks_app")
    root = tmp_path / "app"
    root.mkdir()
    for part in ("src", "conf"):
        (root / part).symlink_to(REPO_ROOT / part)
    settings = make_home(tmp_path)
    (root / "lakehouse").symlink_to(settings.home)
    db = Database(load_app_config(settings).database_url)
    try:
        for name, (role, stores) in USERS.items():
            create_user(db, name, role, stores, None, actor="test")
    finally:
        db.dispose()
    return settings


@pytest.fixture(scope="module")
def databricks_app(spark, app_source: Settings) -> Iterator[tuple[str, StatementStandIn]]:
    """app.yaml's command on 127.0.0.1 over the statement-execution stand-in; yields its URL when up."""
    with StatementStandIn(
        spark, app_source.tables_dir, catalog=CATALOG, schemas=app_source.get("storage.schemas")
    ) as standin:
        port = _free_port()
        resolved = {
            "sql-warehouse": standin.warehouse_id,
            "app-secret-key": SECRET,
            "forecasts-table": f"{CATALOG}.gold.forecasts",
        }
        env = _environment(
            resolved,
            {
                "DATABRICKS_HOST": standin.host,
                "DATABRICKS_TOKEN": standin.token,
                "HOME": str(app_source.home.parent),
            },
        )
        proc = subprocess.Popen(
            _command(port, host="127.0.0.1"),
            env=env,
            cwd=app_source.home.parent / "app",
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 240  # the first statements start the stand-in's Spark jobs
            while True:
                try:
                    requests.get(f"{url}/api/v1/health", timeout=120)
                    break
                except (requests.ConnectionError, requests.Timeout):
                    alive = proc.poll() is None and time.monotonic() < deadline
                    assert alive, proc.stdout.read().decode()[-3000:]
                    time.sleep(0.3)
            yield url, standin
        finally:
            proc.terminate()
            proc.wait(timeout=120)


def _as(user: str, header: str = "X-Forwarded-Email") -> dict[str, str]:
    return {header: user}


def test_app_yaml_runs_the_bakery_app_under_the_databricks_profile():
    app = _app_yaml()
    assert app["command"][:4] == ["python", "-m", "bakery.cli", "app"]
    assert "$DATABRICKS_APP_PORT" in app["command"]
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in app["env"]}
    assert env["BAKERY_APP_PROFILE"] == "databricks" and env["PYTHONPATH"] == "src"
    bundle_app = yaml.safe_load(BUNDLE_APP.read_text())["resources"]["apps"]["bakery_app"]
    keys = {r["name"] for r in bundle_app["resources"]}
    assert {e["valueFrom"] for e in app["env"] if "valueFrom" in e} <= keys, "valueFrom names no app resource"


@pytest.mark.slow
def test_the_app_serves_forwarded_users_their_own_scope(databricks_app):
    url, standin = databricks_app
    page = requests.get(f"{url}/", headers=_as("Marta@Example.com"), timeout=120)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    stores = requests.get(f"{url}/api/v1/stores", headers=_as("marta@example.com"), timeout=120)
    assert stores.status_code == 200 and [s["store_id"] for s in stores.json()["items"]] == ["S01"]
    forecasts = requests.get(
        f"{url}/api/v1/forecasts",
        params={"limit": 10000},
        timeout=120,
        headers=_as("ana@example.com", "X-Forwarded-Preferred-Username"),
    )
    assert forecasts.status_code == 200 and forecasts.json()["as_of"] == "2026-04-30"
    assert {f["store_id"] for f in forecasts.json()["items"]} == {"S01", "S02"}  # an analyst sees every store
    other = requests.get(
        f"{url}/api/v1/forecasts", params={"store_id": "S02"}, headers=_as("marta@example.com"), timeout=120
    )
    assert other.status_code == 403  # a manager of S01 asking for S02
    assert any(s.sql.startswith("SELECT") and CATALOG in s.sql for s in standin.statements.values())


@pytest.mark.slow
def test_an_unregistered_or_missing_identity_is_refused(databricks_app):
    url, _ = databricks_app
    stranger = _as("stranger@example.com")
    assert requests.get(f"{url}/", headers=stranger, timeout=120).status_code == 403
    assert requests.get(f"{url}/api/v1/stores", headers=stranger, timeout=120).status_code == 401
    assert requests.get(f"{url}/api/v1/stores", timeout=120).status_code == 401


def test_outside_the_platform_the_command_refuses_a_non_loopback_bind(app_source):
    """app.yaml's command as it stands (0.0.0.0) without the platform's variables: exit 2 before listening."""
    resolved = {"sql-warehouse": "w", "app-secret-key": SECRET, "forecasts-table": f"{CATALOG}.gold.x"}
    env = _environment(resolved, {"HOME": str(app_source.home.parent)})
    done = subprocess.run(
        _command(_free_port()),
        env=env,
        cwd=app_source.home.parent / "app",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "refusing to start" in done.stderr and "X-Forwarded-Email" in done.stderr
    assert "DATABRICKS_APP_NAME and DATABRICKS_APP_PORT are not set" in done.stderr


def test_the_bind_guard_allows_loopback_and_the_platform_only():
    inside = dict.fromkeys(PLATFORM_ENV, "x")
    assert identity_bind_refusal("127.0.0.1", True, {}) is None
    assert identity_bind_refusal("::1", True, {}) is None
    assert identity_bind_refusal("0.0.0.0", True, inside) is None
    assert identity_bind_refusal("0.0.0.0", False, {}) is None  # local accounts: no headers are believed
    refusal = identity_bind_refusal("10.1.2.3", True, {"DATABRICKS_APP_PORT": "8000"})
    assert refusal and "DATABRICKS_APP_NAME is not set" in refusal and "10.1.2.3" in refusal


def test_the_profile_and_the_table_name_set_the_mode_and_the_catalog(app_settings: Settings):
    conf = load_app_config(app_settings, environ={"BAKERY_APP_PROFILE": "databricks"})
    assert (conf.get("auth.mode"), conf.get("serving.backend")) == ("databricks", "databricks")
    assert load_app_config(app_settings, environ={}).get("auth.mode") == "local"
    named = with_serving_table(app_settings, conf, {"BAKERY_SERVING_TABLE": "bakery_prod.team_gold.sales"})
    assert named.get("storage.catalog") == "bakery_prod"
    layers = ("bronze", "silver", "gold", "ops")
    assert named.get("storage.schemas") == {layer: f"team_{layer}" for layer in layers}
    assert with_serving_table(app_settings, conf, {}) is app_settings


@pytest.mark.parametrize(
    "environ, named",
    [
        (
            {"BAKERY_APP_PROFILE": "databrick"},
            r"BAKERY_APP_PROFILE='databrick': .*app\.yml has no such entry",
        ),
        ({"BAKERY_SERVING_TABLE": "forecasts"}, r"BAKERY_SERVING_TABLE='forecasts': expected <catalog>"),
        (
            {"BAKERY_SERVING_TABLE": "c.silver.stores"},
            r"BAKERY_SERVING_TABLE='c\.silver\.stores': .*gold table",
        ),
    ],
)
def test_a_bad_profile_or_table_name_is_refused_naming_the_variable(app_settings: Settings, environ, named):
    with pytest.raises(ValueError, match=named):
        with_serving_table(app_settings, load_app_config(app_settings, environ=environ), environ)
