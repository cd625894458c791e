"""App database migrations (Alembic): fresh, pre-migration and older databases reach the newest schema
with their rows intact, the models match the migrations, and `bakery app-db` reports and upgrades."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.exc import DatabaseError

from bakery.app import audit, migrate
from bakery.app.accounts import create_user
from bakery.app.appconf import load_app_config
from bakery.app.db import AuditEvent, Base, Database, LoginAttempt, User
from tests.app.test_cli import run


def _url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'app.db'}"


def test_a_fresh_database_is_at_the_newest_revision_and_matches_the_models(tmp_path):
    db = Database(_url(tmp_path))
    state = migrate.state(db.engine)
    assert state.up_to_date and state.current == migrate.head() == "0004"
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    audit.record(db, "admin", "setting.changed", "x")
    with pytest.raises(DatabaseError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'someone else'"))
    with pytest.raises(DatabaseError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))


def test_a_pre_migration_database_is_stamped_and_upgraded_keeping_its_rows(tmp_path):
    # What every home created before migrations holds: create_all's tables, no alembic_version, no actor index.
    engine = create_engine(_url(tmp_path))
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_audit_log_actor"))
    engine.dispose()
    old = Database(_url(tmp_path), migrate=False)
    create_user(old, "marta", "manager", "S01", "marta-secret-1", actor="test")
    assert migrate.state(old.engine).current is None
    old.dispose()

    db = Database(_url(tmp_path))
    assert migrate.state(db.engine).up_to_date
    assert db.user("marta").store_list == ["S01"]
    assert "ix_audit_log_actor" in {i["name"] for i in inspect(db.engine).get_indexes("audit_log")}
    with db.session() as s:
        assert s.scalar(select(AuditEvent.action).where(AuditEvent.target == "marta")) == "user.created"


def test_an_older_revision_is_upgraded_and_a_rerun_changes_nothing(tmp_path):
    engine = create_engine(_url(tmp_path))
    with engine.begin() as conn:
        cfg = migrate.alembic_config(conn)
        command.upgrade(cfg, "0001")
    engine.dispose()
    db = Database(_url(tmp_path), migrate=False)
    assert migrate.state(db.engine).current == "0001"
    create_user(db, "ana", "analyst", None, "analyst-secret-1", actor="test")
    assert migrate.upgrade(db.engine).current == "0004"
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    again = Database(_url(tmp_path))
    with again.session() as s:
        assert s.scalars(select(User.username)).all() == ["ana"]
    assert migrate.state(again.engine).current == "0004"


def test_app_db_status_and_upgrade_commands(settings, monkeypatch):
    url = load_app_config(settings).database_url
    engine = create_engine(url)
    settings.home.joinpath("app").mkdir(parents=True, exist_ok=True)
    with engine.begin() as conn:
        command.upgrade(migrate.alembic_config(conn), "0001")
    engine.dispose()
    code, out, _ = run(settings, ["app-db", "status"], monkeypatch=monkeypatch)
    assert code == 1 and "revision 0001, newest 0004" in out and "app-db upgrade" in out
    code, out, _ = run(settings, ["app-db", "upgrade"], monkeypatch=monkeypatch)
    assert code == 0 and "0001 -> 0004" in out
    code, out, _ = run(settings, ["app-db", "status"], monkeypatch=monkeypatch)
    assert code == 0 and "revision 0004, newest 0004" in out and "pending" not in out


def test_0003_replaces_the_old_lockout_rows_and_downgrades(tmp_path):
    engine = create_engine(_url(tmp_path))
    with engine.begin() as conn:
        command.upgrade(migrate.alembic_config(conn), "0002")
        conn.execute(text("INSERT INTO login_attempts (username, failures) VALUES ('admin', 4)"))
    engine.dispose()
    db = Database(_url(tmp_path))
    assert migrate.state(db.engine).current == "0004"
    with db.session() as s:
        assert s.scalars(select(LoginAttempt)).all() == []  # short-lived lockout state, not carried over
    columns = {c["name"] for c in inspect(db.engine).get_columns("login_attempts")}
    assert {"scope", "subject", "client", "blocked_until", "expires_at"} <= columns
    with db.engine.begin() as conn:
        command.downgrade(migrate.alembic_config(conn), "0002")
    assert "bake_overrides" not in inspect(db.engine).get_table_names()
    assert {c["name"] for c in inspect(db.engine).get_columns("login_attempts")} == {
        "username",
        "failures",
        "last_failure_at",
        "locked_until",
    }
