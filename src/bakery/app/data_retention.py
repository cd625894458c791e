"""Retention of the app's own records (conf/app.yml `retention`), run by the nightly retention.

Audit rows older than `audit_days` are deleted (the only deletion of audit rows besides an erasure, in the
same guarded transaction: bakery.app.privacy.audit_log_writable); expired login counters are pruned; staged
uploads never loaded are removed after `staged_upload_hours`; the copy of a loaded file and its bad rows go
after `upload_original_days`, while the batch, its record file (marked `original_purged_at`) and its rows in
the lakehouse stay.
"""

from __future__ import annotations

import json
import logging
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select

from bakery.app.appconf import AppConfig
from bakery.app.db import AuditEvent, Database, UploadBatch
from bakery.app.login_throttle import prune_login_attempts
from bakery.app.privacy import audit_log_writable, open_app_db, staging_dir
from bakery.config import Settings

log = logging.getLogger(__name__)

HORIZONS = {"audit_days": "days", "staged_upload_hours": "hours", "upload_original_days": "days"}


def app_horizons(conf: AppConfig) -> dict[str, timedelta]:
    """conf/app.yml retention.* as durations; ValueError naming the key when one is not a positive number."""
    out = {}
    for key, unit in HORIZONS.items():
        value = conf.get(f"retention.{key}")
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ValueError(f"conf/app.yml retention.{key} must be a number of {unit} > 0, got {value!r}")
        out[key] = timedelta(**{unit: float(value)})
    return out


def enforce_app_retention(settings: Settings, now: datetime) -> dict[str, Any]:
    """Apply the app's horizons as of `now` (timezone-aware); returns what was removed, by kind."""
    opened = open_app_db(settings)
    if opened is None:
        return {"app_database": "none"}
    db, conf = opened
    try:
        cut = {key: now - span for key, span in app_horizons(conf).items()}
        report = {
            "audit_rows_deleted": _trim_audit(db, cut["audit_days"]),
            "login_attempts_pruned": prune_login_attempts(db, now.timestamp()),
            "staged_uploads_removed": _remove_staged(conf, cut["staged_upload_hours"]),
            "upload_originals_removed": _remove_originals(db, conf, cut["upload_original_days"]),
        }
    finally:
        db.dispose()
    log.info("retention: app data: %s", ", ".join(f"{k} {v}" for k, v in report.items()))
    return report


def _trim_audit(db: Database, cutoff: datetime) -> int:
    with db.serialized("audit_log") as s:
        old = s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.at < cutoff)) or 0
        if old:
            with audit_log_writable(s):
                s.execute(delete(AuditEvent).where(AuditEvent.at < cutoff))
    return int(old)


def _remove_staged(conf: AppConfig, cutoff: datetime) -> int:
    root = staging_dir(conf)
    old = (
        [d for d in root.iterdir() if d.is_dir() and d.stat().st_mtime < cutoff.timestamp()]
        if root.is_dir()
        else []
    )
    for folder in old:
        shutil.rmtree(folder, ignore_errors=True)
    return len(old)


def _remove_originals(db: Database, conf: AppConfig, cutoff: datetime) -> int:
    """The original file and bad rows of each batch loaded before `cutoff`."""
    with db.session() as s:
        ids = s.scalars(select(UploadBatch.batch_id).where(UploadBatch.uploaded_at < cutoff)).all()
    root = conf.uploads_dir.resolve()
    return sum(
        purge_original(folder) for batch_id in ids if (folder := (root / batch_id).resolve()).parent == root
    )


def upload_originals(folder: Path) -> list[Path]:
    """The copy of the uploaded file and its bad rows in a batch's folder (bakery.app.uploads keeps them)."""
    return sorted([*folder.glob("original*"), *folder.glob("bad_rows.csv")]) if folder.is_dir() else []


def purge_original(folder: Path) -> bool:
    """Remove a batch's original and bad rows, and say so in its batch.json (`original_purged_at`); the batch
    record and its rows in the lakehouse stay. False when there was nothing to remove."""
    files = upload_originals(folder)
    for f in files:
        f.unlink(missing_ok=True)
    if not files:
        return False
    record = folder / "batch.json"
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        log.warning("%s is missing or unreadable; the upload's original was removed all the same", record)
    else:
        data["original_purged_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        record.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    return True
