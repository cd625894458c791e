"""Login throttling: per client, per user name and client with back-off, per user name; atomic under parallel
requests and shared by worker processes; bounded audit and counter rows for made-up names."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from bakery.app.accounts import create_user
from bakery.app.appconf import load_app_config
from bakery.app.db import AuditEvent, Database, LoginAttempt
from bakery.app.login_throttle import IP, USER, USER_IP, LoginThrottle, client_key, prune_login_attempts
from tests.app.conftest import FAST, PASSWORDS, LiveServer, build_app, make_home

T0 = 1_800_000_000.0  # a fixed clock for the policy tests


def _conf(settings, **throttle):
    return load_app_config(settings, {"auth": {"throttle": throttle}})


@pytest.fixture
def throttle(tmp_path, settings):
    db = Database(f"sqlite:///{tmp_path / 'app.db'}")
    return LoginThrottle(db, _conf(settings, ip_attempts_per_minute=1000))


def test_five_failures_then_waits_that_double_up_to_the_ceiling(throttle):
    now, waits = T0, []
    for _ in range(5):
        assert throttle.reserve("mgr", "10.0.0.1", account=True, now=now).allowed
    for _ in range(7):
        refused = throttle.reserve("mgr", "10.0.0.1", account=True, now=now)
        assert not refused.allowed and refused.scope == USER_IP
        waits.append(refused.retry_after)
        now += refused.retry_after
        assert throttle.reserve("mgr", "10.0.0.1", account=True, now=now).allowed
    assert waits == [30, 60, 120, 240, 480, 900, 900]
    # the back-off belongs to that client: the same name from elsewhere is not held
    assert throttle.reserve("mgr", "10.0.0.2", account=True, now=now).allowed
    # a correct password clears it
    verdict = throttle.reserve("mgr", "10.0.0.3", account=True, now=now)
    throttle.release("mgr", "10.0.0.1", verdict, now=now)
    assert throttle.reserve("mgr", "10.0.0.1", account=True, now=now).allowed


def test_only_the_first_refusal_of_a_wait_is_marked_for_the_audit(throttle):
    for _ in range(5):
        throttle.reserve("mgr", "10.0.0.1", account=True, now=T0)
    marks = [throttle.reserve("mgr", "10.0.0.1", account=True, now=T0 + i).first_refusal for i in range(5)]
    assert marks == [True, False, False, False, False]
    with throttle.db.session() as s:
        assert s.get(LoginAttempt, (USER_IP, "mgr", "10.0.0.1")).refused == 5


def test_per_name_ceiling_slows_unknown_clients_and_spares_known_ones(tmp_path, settings):
    db = Database(f"sqlite:///{tmp_path / 'app.db'}")
    throttle = LoginThrottle(db, _conf(settings, ip_attempts_per_minute=1000, user_failures_per_hour=20))
    known = throttle.reserve("admin", "192.0.2.1", account=True, now=T0)
    throttle.release("admin", "192.0.2.1", known, now=T0)  # the admin signed in from here before
    for i in range(20):  # a distributed guesser: 20 addresses, one failure each
        assert throttle.reserve("admin", f"203.0.113.{i}", account=True, now=T0 + 1).allowed
    slowed = throttle.reserve("admin", "203.0.113.200", account=True, now=T0 + 1)
    assert not slowed.allowed and slowed.scope == USER and slowed.retry_after == 10
    assert throttle.reserve("admin", "203.0.113.200", account=True, now=T0 + 11).allowed  # slowed, not locked
    assert throttle.reserve("admin", "203.0.113.201", account=True, now=T0 + 12).retry_after == 19  # doubling
    assert throttle.reserve("admin", "192.0.2.1", account=True, now=T0 + 12).allowed  # the known client
    assert throttle.unlock("admin", now=T0 + 12) == 1
    assert throttle.reserve("admin", "203.0.113.202", account=True, now=T0 + 12).allowed


def test_client_address_pause_and_ipv6_prefix(tmp_path, settings):
    db = Database(f"sqlite:///{tmp_path / 'app.db'}")
    throttle = LoginThrottle(db, _conf(settings, ip_attempts_per_minute=3))
    for i in range(3):  # different names from addresses of one /64
        assert throttle.reserve(f"n{i}", f"2001:db8:1:2::{i + 1}", account=False, now=T0).allowed
    refused = throttle.reserve("n9", "2001:db8:1:2:ffff::9", account=False, now=T0 + 1)
    assert not refused.allowed and refused.scope == IP and refused.retry_after == 59
    assert throttle.reserve("n9", "2001:db8:1:3::1", account=False, now=T0 + 1).allowed
    assert throttle.reserve("n9", "2001:db8:1:2::1", account=False, now=T0 + 60).allowed
    assert client_key("::ffff:10.1.2.3") == "10.1.2.3" and client_key("10.1.2.3") == "10.1.2.3"


def test_counters_expire_and_prune_removes_them(throttle):
    for i in range(10):
        throttle.reserve(f"unknown:{i:012x}", "10.0.0.1", account=False, now=T0)
    known = throttle.reserve("mgr", "10.0.0.1", account=True, now=T0)
    throttle.release("mgr", "10.0.0.1", known, now=T0)
    with throttle.db.session() as s:
        assert s.scalar(select(func.count()).select_from(LoginAttempt)) == 1 + 2 * 10 + 2
    # the client's minute and the made-up names' per-client counters (15 minutes) go first
    assert prune_login_attempts(throttle.db, now=T0 + 16 * 60) == 1 + 10
    assert prune_login_attempts(throttle.db, now=T0 + 61 * 60) == 10 + 1  # the per-name hour
    with throttle.db.session() as s:
        left = s.execute(select(LoginAttempt.scope, LoginAttempt.subject)).all()
    assert left == [(USER_IP, "mgr")]  # the manager's known client, kept for a month
    assert prune_login_attempts(throttle.db, now=datetime.fromtimestamp(T0 + 31 * 86400, UTC)) == 1


# ---- over HTTP, against a real threaded server behind a (trusted) proxy on 127.0.0.1 ---------------------


@pytest.fixture(scope="module")
def proxied(tmp_path_factory) -> LiveServer:
    settings = make_home(tmp_path_factory.mktemp("throttle"))
    srv = LiveServer(build_app(settings, overrides={"server": {"trusted_proxies": ["127.0.0.1"]}}), settings)
    srv.thread.start()
    yield srv
    srv.server.shutdown()
    srv.thread.join(timeout=5)


def _token(srv: LiveServer, user: str, password: str, client: str) -> requests.Response:
    return requests.post(
        f"{srv.url}/api/v1/auth/token",
        json={"username": user, "password": password},
        headers={"X-Forwarded-For": client},
        timeout=30,
    )


def test_parallel_guesses_verify_at_most_the_limit_and_never_answer_500(proxied):
    with ThreadPoolExecutor(max_workers=25) as pool:
        statuses = list(
            pool.map(lambda _: _token(proxied, "mgr", "wrong-guess", "203.0.113.25").status_code, range(25))
        )
    assert sorted(statuses) == [401] * 5 + [429] * 20
    # the stranger's guesses do not lock the manager out from their own address
    assert _token(proxied, "mgr", PASSWORDS["mgr"], "198.51.100.7").status_code == 200
    refused = _token(proxied, "mgr", PASSWORDS["mgr"], "203.0.113.25")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) <= 30


def test_a_flood_of_made_up_names_adds_bounded_rows_and_no_raw_names(proxied):
    db = proxied.ctx.db
    with db.session() as s:
        audit_before = s.scalar(select(func.max(AuditEvent.id)))
    names = [f"{i:04d}" + "x" * 186 for i in range(500)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda n: _token(proxied, n, "pw", "203.0.113.66").status_code, names))
    verified = statuses.count(401)
    assert 0 < verified <= 30 and statuses.count(429) == 500 - verified
    with db.session() as s:
        new = s.scalars(select(AuditEvent).where(AuditEvent.id > audit_before)).all()
        flood = s.scalars(
            select(LoginAttempt).where(
                (LoginAttempt.subject.like("unknown:%")) | (LoginAttempt.subject == "203.0.113.66")
            )
        ).all()
        raw = s.scalar(select(func.count()).where(LoginAttempt.subject.like("%xxxx%")))
    assert len(new) == verified + 1  # the verified failures and one record of the pause, not 500
    assert sorted({e.action for e in new}) == ["login.failed", "login.throttled"]
    assert all(e.actor.startswith("unknown:") and len(e.actor) == 20 for e in new)
    assert len(flood) == 1 + 2 * verified and raw == 0  # the client's counter plus two per verified name
    assert prune_login_attempts(db, now=max(r.expires_at for r in flood) + 1) >= len(flood)


# ---- two processes sharing one app.db -------------------------------------------------------------------

_WORKER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from bakery.app.appconf import load_app_config
    from bakery.app.auth import Authenticator, LoginRefused
    from bakery.app.db import Database
    from bakery.config import load_settings
    home, go, tag = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    fast = {"auth": {"argon2": {"time_cost": 1, "memory_cost_kib": 1024, "parallelism": 1}}}
    conf = load_app_config(load_settings(home=home), fast)
    auth = Authenticator(Database(conf.database_url), conf)
    while not go.exists():
        time.sleep(0.01)
    outcomes = []
    for i in range(40):
        try:
            auth.login(f"{tag}-{i}", "wrong", "198.51.100.9", channel="api")
        except LoginRefused as exc:
            outcomes.append(exc.reason)
    print(outcomes.count("invalid"), outcomes.count("throttled"))
""")


def test_the_client_limit_holds_across_worker_processes(tmp_path, settings):
    Database(load_app_config(settings, FAST).database_url)  # migrated once, before the workers start
    go = tmp_path / "go"
    env = {
        **os.environ,
        "BAKERY_SECRET_KEY": "test-only-session-key-0123456789",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src"),
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(settings.home), str(go), tag],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("a", "b")
    ]
    go.touch()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err[-2000:]
        results.append(tuple(int(x) for x in out.split()))
    verified = sum(r[0] for r in results)
    assert 0 < verified <= 30 and sum(r[1] for r in results) == 80 - verified  # 30 a minute, not 30 each


def test_a_known_user_is_not_confused_with_a_pseudonym(tmp_path, settings):
    db = Database(f"sqlite:///{tmp_path / 'app.db'}")
    create_user(db, "real", "analyst", None, "analyst-pass-1", actor="t")
    from bakery.app.auth import Authenticator, LoginRefused

    auth = Authenticator(db, load_app_config(settings, FAST))
    with pytest.raises(LoginRefused):
        auth.login("Real\nINFO fake", "x", "10.0.0.1")
    with db.session() as s:
        actors = s.scalars(select(AuditEvent.actor).where(AuditEvent.action == "login.failed")).all()
    assert actors == [auth.pseudonym("Real\nINFO fake")] and actors[0] != auth.pseudonym("real")
