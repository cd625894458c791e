"""Retention (design 2.3): raw data and system records 5 years, processed data 3 years, then VACUUM.

Raw = bronze, the landing files behind it, and the ops records (runs, quarantine, file registry, data
quality: the audit trail of the raw data). Processed = silver and gold. Rows are deleted by each table's
date column (`bakery.ops.status.date_column`); tables without one (stores, products) are never trimmed.
A landing file goes when its ingestion record is past the raw horizon and its bytes are still the ones
recorded, and it goes before its record and bronze rows, so no crash can make it look new again.
The app's own records (audit log, login counters, staged uploads, upload originals) follow conf/app.yml
`retention`: the caller passes that step in (`bakery.admin.retention` does), so ops never imports the app
and both are one tracked run. Everything is idempotent: a second run with the same `today` deletes
nothing and vacuums nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from bakery.config import Settings, vacuum_hours
from bakery.lakehouse import Lakehouse
from bakery.ops.runs import track_run
from bakery.ops.status import TableProfile, profile_tables
from bakery.tables import INGESTED_FILES

log = logging.getLogger(__name__)

RAW, PROCESSED = "raw", "processed"
LAYER_CLASS = {"bronze": RAW, "silver": PROCESSED, "gold": PROCESSED, "ops": RAW}
# Commits that only add files or change metadata leave nothing for VACUUM to delete.
_NON_REMOVING_OPERATIONS = {
    "CREATE TABLE",
    "CREATE TABLE AS SELECT",
    "SET TBLPROPERTIES",
    "UNSET TBLPROPERTIES",
    "CHANGE COLUMN",
    "CHANGE COLUMNS",
    "ADD COLUMNS",
    "UPGRADE PROTOCOL",
    "VACUUM START",
    "VACUUM END",
}


@dataclass(frozen=True)
class Commit:
    """The part of a Delta history entry that decides whether VACUUM has work."""

    timestamp: datetime
    operation: str
    mode: str | None = None
    retention_ms: int | None = None


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier (29 February falls back to the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def horizons(settings: Settings, today: date) -> dict[str, date]:
    """First day kept per class: rows dated before it are deleted."""
    raw, processed = settings.get("retention.raw_years"), settings.get("retention.processed_years")
    for key, value in (("retention.raw_years", raw), ("retention.processed_years", processed)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"conf {key} must be a whole number of years >= 1, got {value!r}")
    return {RAW: years_before(today, raw), PROCESSED: years_before(today, processed)}


def removes_files(commit: Commit) -> bool:
    if commit.operation in ("WRITE", "STREAMING UPDATE", "CREATE OR REPLACE TABLE AS SELECT"):
        return commit.mode != "Append"
    return commit.operation not in _NON_REMOVING_OPERATIONS


def needs_vacuum(commits: list[Commit], retain: timedelta, now: datetime) -> bool:
    """True when a commit that removed files has aged past `retain` since the last VACUUM looked.

    A file removed at T may be deleted from T + retain on. The last completed VACUUM (started at V,
    keeping its own retain R) deleted everything removed before V - R; what is left and now old enough
    is what removed files in [V - R, now - retain).
    """
    ends = [c.timestamp for c in commits if c.operation == "VACUUM END"]
    handled_before = None
    if ends:
        starts = [c for c in commits if c.operation == "VACUUM START" and c.timestamp <= max(ends)]
        if starts:
            last = max(starts, key=lambda c: c.timestamp)
            kept = timedelta(milliseconds=last.retention_ms) if last.retention_ms is not None else retain
            handled_before = last.timestamp - kept
    return any(
        removes_files(c)
        and c.timestamp < now - retain
        and (handled_before is None or c.timestamp >= handled_before)
        for c in commits
    )


def _utc(value: datetime) -> datetime:
    """Timestamps read from ops tables are UTC instants (naive ones too)."""
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


# ---- landing files --------------------------------------------------------------------------------
def expired_landing_files(lh: Lakehouse, settings: Settings, cutoff: date) -> list[Path]:
    """Landing files last recorded in ops.ingested_files before `cutoff` whose bytes are still those recorded."""
    from bakery.ingest.registry import sha256_file

    if not lh.exists(*INGESTED_FILES):
        return []
    last_seen: dict[str, datetime] = {}
    hashes: dict[str, set[str]] = {}
    for r in lh.read_arrow(*INGESTED_FILES, ["source_file", "file_hash", "ingested_at"]).to_pylist():
        seen = _utc(r["ingested_at"])
        last_seen[r["source_file"]] = max(seen, last_seen.get(r["source_file"], seen))
        hashes.setdefault(r["source_file"], set()).add(r["file_hash"])
    horizon = datetime.combine(cutoff, time(), UTC)
    landing = settings.landing_dir.resolve()
    expired = []
    for source_file, seen in last_seen.items():
        path = (landing / source_file).resolve()
        in_landing = path.is_relative_to(landing) and path.is_file()
        if seen < horizon and in_landing and sha256_file(path) in hashes[source_file]:
            expired.append(path)
    return sorted(expired)


# ---- tables ---------------------------------------------------------------------------------------
def _trim(lh: Lakehouse, profile: TableProfile, cutoff: date) -> int:
    """Delete the rows dated before cutoff; no commit at all when there are none."""
    if profile.date_column is None or profile.first_date is None or profile.first_date >= cutoff:
        return 0
    condition = f"`{profile.date_column}` < DATE'{cutoff.isoformat()}'"
    old = lh.read(profile.layer, profile.name).filter(condition).count()
    if old:
        lh.delete(profile.layer, profile.name, condition)
        log.info("retention: deleted %d rows of %s dated before %s", old, profile.key, cutoff)
    return old


def _commits(lh: Lakehouse, profile: TableProfile, trimmed: bool) -> list[Commit]:
    """The table's history as far as VACUUM cares: a table at version 0 that this run did not trim has
    removed nothing yet. The profile's version says so (in a catalog, asking the table again would cost a
    DESCRIBE HISTORY job per table)."""
    if not (profile.version or trimmed):
        return []
    out = []
    for c in lh.history(profile.layer, profile.name):
        params = c["parameters"]
        kept = params.get("specifiedRetentionMillis") or params.get("defaultRetentionMillis")
        out.append(
            Commit(
                c["timestamp"],
                c["operation"],
                params.get("mode"),
                int(kept) if kept and kept.isdigit() else None,
            )
        )
    return out


def _vacuum(lh: Lakehouse, profile: TableProfile, hours: float, lite: bool) -> None:
    try:
        lh.vacuum(profile.layer, profile.name, hours, lite=lite)
    except Exception as exc:  # LITE needs the log back to the last vacuum; FULL lists storage instead
        if not lite or "DELTA_CANNOT_VACUUM_LITE" not in str(exc):
            raise
        log.info("retention: VACUUM LITE cannot cover %s; running a full VACUUM", profile.key)
        lh.vacuum(profile.layer, profile.name, hours)


def _summary(deleted: dict[str, int], files: list[str], vacuumed: list[str], cut: dict[str, date]) -> str:
    rows = sum(deleted.values())
    tables = ", ".join(f"{k} {v:,}" for k, v in deleted.items()) if deleted else "none"
    return (
        f"deleted {rows:,} rows dated before {cut[RAW]} (raw) / {cut[PROCESSED]} (processed) "
        f"[{tables}], {len(files)} landing files; vacuumed {len(vacuumed)} tables"
    )


def enforce_retention(
    lh: Lakehouse, settings: Settings, today: date, *, app_retention: Callable[[datetime], dict[str, Any]]
) -> dict[str, Any]:
    """Apply the retention policy as of `today`; the report's 'summary' is one line for humans.
    `app_retention(now)` trims the app's own records and returns what it did (the report's 'app_data')."""
    cut = horizons(settings, today)
    hours = vacuum_hours(settings.raw)  # never below the time-travel window (a configuration error)
    lite = str(settings.get("retention.vacuum_mode", "lite")).lower() == "lite"
    with track_run(lh, "retention") as run:
        files = expired_landing_files(lh, settings, cut[RAW])
        for path in files:
            path.unlink()
            log.info("retention: removed landing file %s (ingested before %s)", path, cut[RAW])
        landing = settings.landing_dir.resolve()
        removed = [p.relative_to(landing).as_posix() for p in files]

        profiles = profile_tables(lh, settings)
        deleted = {p.key: n for p in profiles if (n := _trim(lh, p, cut[LAYER_CLASS[p.layer]]))}

        retain, now = timedelta(hours=hours), datetime.now(UTC)
        vacuumed = [p.key for p in profiles if needs_vacuum(_commits(lh, p, p.key in deleted), retain, now)]
        for p in profiles:
            if p.key in vacuumed:
                _vacuum(lh, p, hours, lite)

        # The app's own records (conf/app.yml retention), as of the end of `today` and never later than now.
        app_data = app_retention(
            min(datetime.now(UTC), datetime.combine(today + timedelta(days=1), time(), UTC))
        )
        report = {
            "today": today.isoformat(),
            "horizons": {k: v.isoformat() for k, v in cut.items()},
            "deleted_rows": deleted,
            "landing_files_deleted": removed,
            "untouched": sorted(p.key for p in profiles if p.date_column is None),
            "vacuumed": vacuumed,
            "vacuum_hours": hours,
            "app_data": app_data,
            "summary": _summary(deleted, removed, vacuumed, cut),
        }
        run.message = report["summary"][:2000]
        run.details = report
    log.info("retention: %s", report["summary"])
    return report
