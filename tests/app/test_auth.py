"""Accounts, passwords, lockout, tokens, sessions and the append-only audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from werkzeug.exceptions import Forbidden

from bakery.app import audit
from bakery.app.accounts import AccountError, create_user, list_users, update_user
from bakery.app.appconf import load_app_config
from bakery.app.auth import (
    Authenticator,
    LoginRefused,
    Principal,
    check_store,
    hash_password,
    require_role,
    verify_password,
)
from bakery.app.db import ApiToken, Database, User, utcnow
from bakery.app.settings_store import SettingError, SettingsStore


@pytest.fixture
def db(tmp_path):
    return Database(f"sqlite:///{tmp_path / 'app.db'}")


@pytest.fixture
def authn(db, settings):
    conf = load_app_config(
        settings, {"auth": {"throttle": {"failures_before_backoff": 3, "ip_attempts_per_minute": 1000}}}
    )
    create_user(db, "mgr", "manager", "S01,S02", "manager-pass-1", actor="test")
    return Authenticator(db, conf)


def test_passwords_are_argon2_and_verify():
    h = hash_password("correct horse")
    assert h.startswith("$argon2id$")
    assert verify_password(h, "correct horse")
    assert not verify_password(h, "wrong")
    assert not verify_password(None, "anything")


def test_login_ok_and_failed_are_audited(authn, db):
    p = authn.login("mgr", "manager-pass-1", "127.0.0.1")
    assert p == Principal("mgr", "manager", frozenset({"S01", "S02"}), p.user_id)
    with pytest.raises(LoginRefused) as exc:
        authn.login("mgr", "nope", "127.0.0.1")
    assert exc.value.reason == "invalid"
    actions = [r["action"] for r in audit.query(db)[0]]
    assert actions[:2] == ["login.failed", "login.ok"]
    assert all("nope" not in str(r["detail"]) for r in audit.query(db)[0])


def test_backoff_after_repeated_failures_holds_one_client_not_the_account(authn, db):
    for _ in range(3):
        with pytest.raises(LoginRefused):
            authn.login("mgr", "bad", "10.0.0.1")
    with pytest.raises(LoginRefused) as exc:
        authn.login("mgr", "manager-pass-1", "10.0.0.1")
    assert exc.value.reason == "locked" and 0 < exc.value.retry_after <= 30
    # the guesser's waits do not lock the user out from their own address
    assert authn.login("mgr", "manager-pass-1", "10.0.0.2").username == "mgr"
    # unknown users wait the same way, so a refusal reveals nothing about who exists
    for _ in range(3):
        with pytest.raises(LoginRefused):
            authn.login("ghost", "bad", "10.0.0.1")
    with pytest.raises(LoginRefused) as exc:
        authn.login("ghost", "bad", "10.0.0.1")
    assert exc.value.reason == "locked"
    # an admin clears the waits
    assert authn.unlock("mgr") == 1
    assert authn.login("mgr", "manager-pass-1", "10.0.0.1").username == "mgr"


def test_ip_throttle(db, settings):
    conf = load_app_config(settings, {"auth": {"throttle": {"ip_attempts_per_minute": 2}}})
    a = Authenticator(db, conf)
    for _ in range(2):
        with pytest.raises(LoginRefused):
            a.login("x", "y", "1.2.3.4")
    with pytest.raises(LoginRefused) as exc:
        a.login("x", "y", "1.2.3.4")
    assert exc.value.reason == "throttled"


def test_tokens_expire_and_die_with_the_account(authn, db):
    p = authn.login("mgr", "manager-pass-1")
    token, ttl = authn.issue_token(p)
    assert ttl == 3600 and authn.token_principal(token) == p
    assert authn.token_principal(token + "x") is None
    with db.session() as s:
        s.query(ApiToken).update({ApiToken.expires_at: utcnow() - timedelta(seconds=1)})
    assert authn.token_principal(token) is None
    token2, _ = authn.issue_token(p)
    update_user(db, "mgr", actor="admin", active=False)
    assert authn.token_principal(token2) is None


def test_session_nonce_rotation_ends_sessions(authn, db):
    p = authn.login("mgr", "manager-pass-1")
    nonce = authn.session_nonce(p.user_id)
    assert authn.session_principal(p.user_id, nonce) == p
    update_user(db, "mgr", actor="admin", stores="S01")
    assert authn.session_principal(p.user_id, nonce) is None
    assert authn.session_principal(p.user_id, authn.session_nonce(p.user_id)).stores == frozenset({"S01"})


def test_authorization_rules():
    mgr = Principal("m", "manager", frozenset({"S01"}))
    ana = Principal("a", "analyst", frozenset())
    check_store(mgr, "S01")
    check_store(ana, "S99")
    for store in ("S02", "DOES-NOT-EXIST"):
        with pytest.raises(Forbidden):
            check_store(mgr, store)
    assert mgr.visible(["S02", "S01"]) == ["S01"]
    assert ana.visible(["S02", "S01"]) == ["S02", "S01"]
    with pytest.raises(Forbidden):
        require_role(mgr, frozenset({"analyst", "admin"}))
    with pytest.raises(Forbidden):
        require_role(None, frozenset({"manager"}))


@pytest.mark.parametrize(
    ("name", "role", "stores", "password", "message"),
    [
        ("bad name!", "analyst", None, "long-enough-1", "NAME"),
        ("m", "manager", None, "long-enough-1", "--stores"),
        ("m", "boss", None, "long-enough-1", "--role"),
        ("m", "manager", "S01,S 2", "long-enough-1", "--stores"),
        ("m", "analyst", None, "short", "password"),
    ],
)
def test_account_validation_names_the_field(db, name, role, stores, password, message):
    with pytest.raises(AccountError, match=message):
        create_user(db, name, role, stores, password, actor="t")
    assert list_users(db) == []


def test_role_changes_are_audited_and_admin_cannot_demote_self(db):
    create_user(db, "boss", "admin", None, "admin-pass-12", actor="cli")
    create_user(db, "Ana", "analyst", None, "analyst-pass-1", actor="boss")
    update_user(db, "ana", actor="boss", role="manager", stores="S03")
    rows, _ = audit.query(db, audit.AuditQuery(action="user.role_changed"))
    assert rows[0]["target"] == "ana" and rows[0]["detail"]["changes"]["role"] == ["analyst", "manager"]
    with pytest.raises(AccountError):
        update_user(db, "boss", actor="boss", role="analyst")
    with pytest.raises(AccountError, match="already exists"):
        create_user(db, "ANA", "analyst", None, "analyst-pass-1", actor="boss")


def test_audit_log_is_append_only(db):
    audit.record(db, "x", "login.ok")
    with db.engine.begin() as conn, pytest.raises(DatabaseError, match="append-only"):
        conn.execute(text("UPDATE audit_log SET actor = 'y'"))
    with db.engine.begin() as conn, pytest.raises(DatabaseError, match="append-only"):
        conn.execute(text("DELETE FROM audit_log"))
    assert audit.query(db)[1] == 1


def test_settings_are_typed_validated_and_audited(db, settings):
    store = SettingsStore(db, load_app_config(settings), ttl=0)
    assert store.get("retrain_fraction") == 0.10
    assert store.set("retrain_fraction", "0.25", actor="boss") == 0.25
    assert store.get("retrain_fraction") == 0.25
    for key, value in (
        ("retrain_fraction", "2"),
        ("stockout_lookback_days", "x"),
        ("default_language", "fr"),
        ("nope", 1),
    ):
        with pytest.raises(SettingError):
            store.set(key, value, actor="boss")
    rows, _ = audit.query(db, audit.AuditQuery(action="setting.changed"))
    assert len(rows) == 1 and rows[0]["detail"] == {"old": 0.1, "new": 0.25}


def test_users_table_stores_no_plain_password(db):
    create_user(db, "ana", "analyst", None, "analyst-pass-1", actor="t")
    with db.session() as s:
        u = s.query(User).one()
        assert "analyst-pass-1" not in (u.password_hash or "")
