"""`bakery users add` and `bakery app` through the parsers the main CLI registers."""

from __future__ import annotations

import argparse
import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

from bakery.app.accounts import list_users
from bakery.app.appconf import load_app_config
from bakery.app.db import Database
from bakery.cli.app import add_app_parsers


def run(settings, argv: list[str], stdin: str = "", monkeypatch=None) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="bakery")
    add_app_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    return args.func(args, settings), out.getvalue(), err.getvalue()


def _users(settings):
    return {a.username: a for a in list_users(Database(load_app_config(settings).database_url))}


def test_users_add_with_password_on_stdin(settings, monkeypatch):
    code, out, _ = run(
        settings,
        ["users", "add", "Marta", "--role", "manager", "--stores", "S01,S02", "--password-stdin"],
        "marta-secret-1\n",
        monkeypatch,
    )
    assert code == 0 and "marta" in out and "marta-secret-1" not in out
    assert _users(settings)["marta"].stores == ["S01", "S02"]


def test_users_add_generates_a_password_when_none_is_given(settings, monkeypatch):
    code, out, _ = run(settings, ["users", "add", "ana", "--role", "analyst"], "", monkeypatch)
    assert code == 0 and "generated password" in out


@pytest.mark.parametrize(
    ("argv", "stdin"),
    [
        (
            ["users", "add", "m", "--role", "manager", "--password-stdin"],
            "long-enough-1\n",
        ),  # manager without stores
        (["users", "add", "bad name", "--role", "analyst", "--password-stdin"], "long-enough-1\n"),
        (["users", "add", "ana", "--role", "analyst", "--password-stdin"], "short\n"),
    ],
)
def test_users_add_usage_errors_exit_2(settings, monkeypatch, argv, stdin):
    code, _, err = run(settings, argv, stdin, monkeypatch)
    assert code == 2 and err.startswith("bakery: error:")
    assert _users(settings) == {}


def test_users_add_existing_user_exits_1(settings, monkeypatch):
    run(
        settings,
        ["users", "add", "ana", "--role", "analyst", "--password-stdin"],
        "long-enough-1\n",
        monkeypatch,
    )
    code, _, err = run(
        settings,
        ["users", "add", "ana", "--role", "admin", "--password-stdin"],
        "long-enough-2\n",
        monkeypatch,
    )
    assert code == 1 and "already exists" in err
    assert _users(settings)["ana"].role == "analyst"


def test_users_set_and_list(settings, monkeypatch):
    run(
        settings,
        ["users", "add", "ana", "--role", "analyst", "--password-stdin"],
        "long-enough-1\n",
        monkeypatch,
    )
    code, out, _ = run(
        settings,
        ["users", "set", "ana", "--role", "manager", "--stores", "S09", "--disable"],
        "",
        monkeypatch,
    )
    assert code == 0 and "disabled" in out
    code, out, _ = run(settings, ["users", "list"], "", monkeypatch)
    assert "ana\tmanager\tS09\tdisabled" in out


def _analyst_ana(settings, monkeypatch):
    """Account `ana` (password long-enough-1) made through the CLI, and an Authenticator over its database."""
    from bakery.app.auth import Authenticator

    run(
        settings,
        ["users", "add", "ana", "--role", "analyst", "--password-stdin"],
        "long-enough-1\n",
        monkeypatch,
    )
    conf = load_app_config(settings)
    return Authenticator(Database(conf.database_url), conf)


def test_users_unlock_clears_failed_login_waits(settings, monkeypatch):
    from bakery.app.auth import LoginRefused

    auth = _analyst_ana(settings, monkeypatch)
    for _ in range(6):
        with pytest.raises(LoginRefused):
            auth.login("ana", "wrong", "203.0.113.5")
    with pytest.raises(LoginRefused, match="locked"):
        auth.login("ana", "long-enough-1", "203.0.113.5")
    code, out, _ = run(settings, ["users", "unlock", "ana"], "", monkeypatch)
    assert code == 0 and "1 failed-login wait(s) cleared" in out
    assert auth.login("ana", "long-enough-1", "203.0.113.5").username == "ana"
    code, out, _ = run(settings, ["users", "unlock", "ghost"], "", monkeypatch)  # any name, known or not
    assert code == 0 and "0 failed-login wait(s)" in out


def test_users_revoke_tokens(settings, monkeypatch):
    auth = _analyst_ana(settings, monkeypatch)
    tokens = [auth.issue_token(auth.login("ana", "long-enough-1", "127.0.0.1"))[0] for _ in range(2)]
    code, out, _ = run(settings, ["users", "revoke-tokens", "ana"], "", monkeypatch)
    assert code == 0 and "revoked 2 API token(s) of ana" in out
    assert [auth.token_principal(t) for t in tokens] == [None, None]
    code, _, err = run(settings, ["users", "revoke-tokens", "nobody"], "", monkeypatch)
    assert code == 2 and "no such user" in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_SERVE = (
    "import sys, argparse; from bakery.config import load_settings; "
    "from bakery.cli.app import add_app_parsers; p = argparse.ArgumentParser(); "
    "add_app_parsers(p.add_subparsers(dest='c')); a = p.parse_args(['app', '--port', sys.argv[2]]); "
    "sys.exit(a.func(a, load_settings(home=sys.argv[1])))"
)


@contextmanager
def bakery_app(home) -> Iterator[str]:
    """`bakery app` (cmd_app under gunicorn, as conf/app.yml sets it up) in a subprocess; yields its URL once
    it answers, and stops it with SIGTERM."""
    port = _free_port()
    env = {**os.environ, "BAKERY_SECRET_KEY": "test-secret-key-not-for-production"}
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVE, str(home), str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                requests.get(f"{url}/api/v1/health", timeout=15)
                break
            except requests.ConnectionError:
                assert proc.poll() is None and time.time() < deadline, proc.stdout.read().decode()[-2000:]
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.slow  # gunicorn in a subprocess: `make test` runs it, not test-fast
def test_bakery_app_serves_until_stopped(app_settings):
    """`bakery app` (cmd_app under gunicorn) answers health and login, and stops on SIGTERM."""
    with bakery_app(app_settings.home) as url:
        r = requests.get(f"{url}/api/v1/health", timeout=15)
        assert r.status_code == 200 and r.json()["data"]["latest_forecast_as_of"] == "2026-04-30"
        login = requests.get(f"{url}/login", timeout=5)
        assert login.status_code == 200 and 'name="csrf_token"' in login.text
        assert requests.get(f"{url}/", allow_redirects=False, timeout=5).status_code == 302


def test_demo_users_are_created_once(settings):
    from bakery.app.demo_users import ensure_demo_users

    first = ensure_demo_users(settings, ["S01", "S02"])
    assert [(u["username"], u["role"], u["stores"]) for u in first] == [
        ("admin", "admin", ""),
        ("analista", "analyst", ""),
        ("gerente", "manager", "S01"),
    ]
    assert ensure_demo_users(settings, ["S01"]) == first
    assert set(_users(settings)) == {"admin", "analista", "gerente"}
