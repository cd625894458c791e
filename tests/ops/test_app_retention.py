"""The nightly retention of the app's own records (conf/app.yml `retention`): old audit rows, expired login
counters, stale staged uploads and old upload originals go; recent ones, and every batch record, stay; the
audit log is append-only for the app again afterwards."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from bakery.app.appconf import load_app_config
from bakery.app.data_retention import enforce_app_retention
from bakery.app.db import AuditEvent, Database, LoginAttempt, UploadBatch
from bakery.config import Settings, load_settings

NOW = datetime.now(UTC)


def _db(settings: Settings) -> Database:
    return Database(load_app_config(settings).database_url)


def _counter(subject: str, expires_at: float) -> LoginAttempt:
    return LoginAttempt(
        scope="user_ip",
        subject=subject,
        client="10.0.0.1",
        attempts=1,
        window_start=0.0,
        blocked_until=0.0,
        delay=0.0,
        refused=0,
        known_until=0.0,
        expires_at=expires_at,
    )


def _batch(settings: Settings, batch_id: str, age: timedelta) -> UploadBatch:
    folder = load_app_config(settings).uploads_dir / batch_id
    folder.mkdir(parents=True)
    (folder / "original.csv").write_text("date,store_id,product_id,quantity_sold\n", encoding="utf-8")
    (folder / "bad_rows.csv").write_text("row,reason\n", encoding="utf-8")
    (folder / "batch.json").write_text(json.dumps({"batch_id": batch_id}), encoding="utf-8")
    return UploadBatch(
        batch_id=batch_id,
        kind="sales",
        original_name="ventas.csv",
        file_hash="h",
        uploaded_by="ana",
        uploaded_at=NOW - age,
        status="accepted",
        path=f"sales/import_{batch_id}.parquet",
    )


def _staged(settings: Settings, token: str, age: timedelta) -> Path:
    folder = load_app_config(settings).app_dir / "staging" / token
    folder.mkdir(parents=True)
    (folder / "upload.csv").write_text("x\n", encoding="utf-8")
    when = (NOW - age).timestamp()
    os.utime(folder, (when, when))
    return folder


@pytest.fixture
def app_home(tmp_path: Path) -> Settings:
    """One old and one recent record of each kind (horizons: audit 365 days, staged 24 h, originals 1825 days)."""
    settings = load_settings(home=tmp_path / "home")
    db = _db(settings)
    try:
        with db.session() as s:
            s.add_all(
                [
                    AuditEvent(at=NOW - timedelta(days=400), actor="ana", action="login.ok", ip="10.0.0.1"),
                    AuditEvent(at=NOW - timedelta(days=30), actor="ana", action="login.ok", ip="10.0.0.1"),
                    _counter("ana", NOW.timestamp() - 60),
                    _counter("mgr", NOW.timestamp() + 3600),
                    _batch(settings, "upl-old", timedelta(days=1900)),
                    _batch(settings, "upl-new", timedelta(days=10)),
                ]
            )
    finally:
        db.dispose()
    _staged(settings, "stale-token-0001", timedelta(hours=30))
    _staged(settings, "fresh-token-0001", timedelta(hours=2))
    return settings


def test_the_nightly_retention_removes_the_apps_old_records_and_keeps_the_recent_ones(spark, app_home):
    from bakery.admin.retention import enforce_retention
    from bakery.lakehouse import Lakehouse

    lh = Lakehouse(spark, app_home)
    report = enforce_retention(lh, app_home, today=date.today())
    assert report["app_data"] == {
        "audit_rows_deleted": 1,
        "login_attempts_pruned": 1,
        "staged_uploads_removed": 1,
        "upload_originals_removed": 1,
    }

    db = _db(app_home)
    try:
        with db.session() as s:
            assert [a.at.date() for a in s.scalars(select(AuditEvent)).all()] == [
                (NOW - timedelta(days=30)).date()
            ]
            assert s.scalars(select(LoginAttempt.subject)).all() == ["mgr"]
            assert s.scalar(select(func.count()).select_from(UploadBatch)) == 2
        for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
            with pytest.raises(DatabaseError, match="append-only"), db.session() as s:
                s.execute(text(statement))
    finally:
        db.dispose()
    uploads = load_app_config(app_home).uploads_dir
    assert sorted(p.name for p in (uploads / "upl-old").iterdir()) == ["batch.json"]
    assert "original_purged_at" in json.loads(
        (uploads / "upl-old" / "batch.json").read_text(encoding="utf-8")
    )
    assert sorted(p.name for p in (uploads / "upl-new").iterdir()) == [
        "bad_rows.csv",
        "batch.json",
        "original.csv",
    ]
    staging = load_app_config(app_home).app_dir / "staging"
    assert [p.name for p in staging.iterdir()] == ["fresh-token-0001"]

    again = enforce_retention(lh, app_home, today=date.today())["app_data"]
    assert set(again.values()) == {0}


def test_a_home_without_an_app_database_gets_none(tmp_path):
    settings = load_settings(home=tmp_path / "home")
    assert enforce_app_retention(settings, NOW) == {"app_database": "none"}
    assert not (settings.home / "app").exists()


@pytest.mark.parametrize(
    "key, value", [("audit_days", 0), ("staged_upload_hours", "a day"), ("upload_original_days", None)]
)
def test_a_bad_horizon_names_its_key(app_home, key, value):
    settings = load_settings(home=app_home.home, overrides={"app": {"retention": {key: value}}})
    with pytest.raises(ValueError, match=f"retention.{key} must be a number"):
        enforce_app_retention(settings, NOW)
