"""GDPR requests for one person across a home (docs/privacy.md): export or erase.

Where a person can be held: the app database and the app's upload files (bakery.app.privacy), the upload log
ops.upload_batches, the bake-plan overrides (silver.bake_overrides, gold.override_scores), the retrain flag, the raw text the lakehouse keeps from source files (bronze
`_rescued_data`, ops.quarantine `raw`) and the log files. They are looked for under every form the system keeps
of them: the identifiers given, `unknown:<hash>` (a name typed at login that was no account) and `p_<hash>` (a
value pseudonymised at bronze).

Erasure puts one pseudonym, `erased:` and 12 random hex digits kept nowhere else, in place of every mention:
the audit trail still reads as one person's actions, but nobody can trace it back to them, not even with the
keys. A Delta table that mentioned them is rewritten (UPDATE), then its history goes: VACUUM with no retention
deletes the old data files and, locally, the Delta log is cut at a new checkpoint (the log's file statistics
hold column values too). Time travel on those tables starts again at the erasure. A table rewritten but not
yet purged is listed in flags/erase_pending.json, and the next erasure purges it first.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyspark.sql import Column
from pyspark.sql import functions as F

from bakery.admin import gdpr_files
from bakery.app import audit
from bakery.app.appconf import AppConfig, load_app_config
from bakery.app.auth import Authenticator
from bakery.app.db import Database
from bakery.app.privacy import (
    Matcher,
    check_identifier,
    erase_app_files,
    erase_app_records,
    export_app_files,
    export_app_records,
    open_app_db,
)
from bakery.config import Settings
from bakery.ingest.pseudonymise import KEY_FILE, PseudonymKeyError, load_pseudonym_key, pseudonym
from bakery.ingest.registry import taken_files
from bakery.lakehouse import Lakehouse
from bakery.tables import BAKE_OVERRIDES, OVERRIDE_SCORES, QUARANTINE, UPLOAD_BATCHES

log = logging.getLogger(__name__)

ERASED = "erased:"
PENDING = Path("flags") / "erase_pending.json"
LOG_RETENTION = "delta.logRetentionDuration"
# Lakehouse tables that name the manager who changed a bake plan (bakery.decisions.overrides).
OVERRIDE_TABLES = (BAKE_OVERRIDES, OVERRIDE_SCORES)
# Raw source text kept in the lakehouse: (layer, table or None for every table of the layer, column, row key).
RAW_TEXT = (
    ("bronze", None, "_rescued_data", ("_source_file", "_row_number", "_batch_id")),
    (*QUARANTINE, "raw", ("source_file", "row_number", "batch_id", "rule")),
)
SECTIONS = (
    "accounts",
    "api_tokens",
    "login_attempts",
    "audit_log",
    "settings_changed",
    "upload_batches",
    "upload_files",
    "staged_uploads",
    "upload_originals",
    "upload_batch_log",
    "bake_overrides",
    "bake_override_records",
    "retrain_requests",
    "bronze_rescued_data",
    "quarantined_rows",
    "landing_files",
    "log_lines",
)
_VERSIONED = re.compile(r"\.?(\d{20})\.")


@dataclass(frozen=True)
class Person:
    """Whom a request is about: the user name, other identifiers, and a matcher for every form of them."""

    name: str
    also: tuple[str, ...]
    matcher: Matcher


def find_person(
    settings: Settings, name: str, also: Sequence[str], db: Database | None, conf: AppConfig
) -> Person:
    """The person with the keyed forms the system may hold of them; ValueError naming --user or --also."""
    name = check_identifier(name, "--user")
    others = tuple(check_identifier(a, "--also") for a in also)
    forms = [name, *others]
    keyed = []
    if db is not None:
        auth = Authenticator(db, conf)
        keyed += [auth.pseudonym(f) for f in dict.fromkeys((name, name.lower()))]
    key = _pseudonym_key(settings)
    if key is not None:
        keyed += [pseudonym(f, key) for f in dict.fromkeys([*forms, *(f.lower() for f in forms)])]
    return Person(name, others, Matcher([*forms, *keyed]))


def _pseudonym_key(settings: Settings) -> bytes | None:
    """The bronze pseudonym key, when one exists: without it no value was pseudonymised (none is created)."""
    env = str(settings.get("privacy.key_env") or "BAKERY_PSEUDONYM_KEY")
    if not (
        os.environ.get(env)
        or settings.get("storage.mode") == "databricks"
        or (settings.home / KEY_FILE).is_file()
    ):
        return None
    try:
        return load_pseudonym_key(settings)
    except PseudonymKeyError as exc:
        log.warning("gdpr: values pseudonymised at bronze are not looked for: %s", exc)
        return None


# ---- Delta tables ---------------------------------------------------------------------------------------------
def _named(m: Matcher, column: str) -> Column:
    return F.lower(F.col(column)).isin(sorted(m.lowered))


def _raw_text_tables(lh: Lakehouse) -> list[tuple[str, str, str, tuple[str, ...]]]:
    tables, existing = [], lh.list_tables()
    for layer, only, column, key in RAW_TEXT:
        for t in existing:
            if t.layer == layer and (only is None or t.name == only):
                columns = lh.read(layer, t.name).columns
                if column in columns:
                    tables.append((layer, t.name, column, tuple(k for k in key if k in columns)))
    return tables


def _upload_log_rows(lh: Lakehouse, m: Matcher) -> list[dict[str, Any]]:
    if not lh.exists(*UPLOAD_BATCHES):
        return []
    rows = lh.read(*UPLOAD_BATCHES).where(_named(m, "uploaded_by")).orderBy("changed_at").collect()
    return [r.asDict() for r in rows]


def _override_rows(lh: Lakehouse, m: Matcher) -> list[dict[str, Any]]:
    """The person's bake-plan overrides as the lakehouse holds them, and their scores."""
    out = []
    for table in OVERRIDE_TABLES:
        if lh.exists(*table):
            rows = lh.read(*table).where(_named(m, "username")).orderBy("date", "store_id", "product_id")
            out += [{"table": ".".join(table), **r.asDict()} for r in rows.collect()]
    return out


def _raw_text_rows(lh: Lakehouse, m: Matcher) -> dict[str, list[dict[str, Any]]]:
    """Rows whose raw text mentions the person: table, row key and the fields (JSON keys) that do."""
    out: dict[str, list[dict[str, Any]]] = {"bronze_rescued_data": [], "quarantined_rows": []}
    for layer, name, column, key in _raw_text_tables(lh) if m.pattern else []:
        rows = lh.read(layer, name).where(F.col(column).rlike(m.pattern)).select(*key, column).collect()
        for r in rows:
            text = r[column]
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError:
                parsed = None
            fields = (
                {k: v for k, v in parsed.items() if m.mentions(v)}
                if isinstance(parsed, dict)
                else {column: text}
            )
            out["bronze_rescued_data" if layer == "bronze" else "quarantined_rows"].append(
                {"table": f"{layer}.{name}", "row": {k: r[k] for k in key}, "fields": fields}
            )
    return out


def _erase_column(
    lh: Lakehouse, settings: Settings, layer: str, name: str, column: str, where: Column, value: Column
) -> int:
    """UPDATE the rows `where` holds (setting `column` to `value`), then purge the table's history."""
    if not lh.exists(layer, name):
        return 0
    count = lh.read(layer, name).where(where).count()
    if count:
        _set_pending(settings, [*_pending(settings), f"{layer}.{name}"])
        lh.delta_table(layer, name).update(where, {column: value})
        purge_history(lh, layer, name)
        _set_pending(settings, [t for t in _pending(settings) if t != f"{layer}.{name}"])
    return count


def purge_history(lh: Lakehouse, layer: str, name: str) -> None:
    """Remove every earlier version of a table: the data files they alone used (VACUUM with no retention, for
    this call only) and, for a local table, the Delta log before a new checkpoint (delta-rs; Databricks expires
    the log by itself after the table's delta.logRetentionDuration)."""
    try:  # LITE finds the removed files in the log: seconds, where listing storage takes a minute
        lh.vacuum(layer, name, 0, lite=True, purge=True)
    except Exception as exc:
        if "DELTA_CANNOT_VACUUM_LITE" not in str(exc):
            raise
        lh.vacuum(layer, name, 0, purge=True)
    if lh.mode != "local":
        return
    from deltalake import DeltaTable as DeltaLog

    path, ident = lh.path(layer, name), lh.identifier(layer, name)
    before = DeltaLog(path).metadata().configuration.get(LOG_RETENTION)
    lh.spark.sql(f"ALTER TABLE {ident} SET TBLPROPERTIES ('{LOG_RETENTION}' = 'interval 0 seconds')")
    try:
        table = DeltaLog(path)
        table.create_checkpoint()
        table.cleanup_metadata()
    finally:
        if before is None:
            lh.spark.sql(f"ALTER TABLE {ident} UNSET TBLPROPERTIES IF EXISTS ('{LOG_RETENTION}')")
        else:
            kept = before.replace("'", "\\'")
            lh.spark.sql(f"ALTER TABLE {ident} SET TBLPROPERTIES ('{LOG_RETENTION}' = '{kept}')")
    log_dir = Path(path) / "_delta_log"
    first = min(int(p.name[:20]) for p in log_dir.glob("*.json") if p.name[:20].isdigit())
    for p in log_dir.iterdir():  # checksums of the versions cut off (Delta's own log cleanup drops them too)
        if (v := _VERSIONED.match(p.name)) and int(v.group(1)) < first and p.is_file():
            p.unlink()


def _pending(settings: Settings) -> list[str]:
    try:
        return list(json.loads((settings.home / PENDING).read_text(encoding="utf-8"))["tables"])
    except (FileNotFoundError, json.JSONDecodeError, KeyError, TypeError):
        return []


def _set_pending(settings: Settings, tables: list[str]) -> None:
    path = settings.home / PENDING
    if not tables:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps({"tables": sorted(set(tables))}), encoding="utf-8")
    tmp.replace(path)


def _finish_pending(lh: Lakehouse, settings: Settings) -> list[str]:
    """Purge the history of tables an interrupted erasure rewrote."""
    done = []
    for key in _pending(settings):
        layer, name = key.split(".", 1)
        if lh.exists(layer, name):
            log.warning("gdpr: purging the history of %s, rewritten by an interrupted erasure", key)
            purge_history(lh, layer, name)
        done.append(key)
        _set_pending(settings, [t for t in _pending(settings) if t != key])
    return done


# ---- the requests -------------------------------------------------------------------------------------------
def _open(settings: Settings) -> tuple[Database | None, AppConfig]:
    opened = open_app_db(settings)
    return opened if opened is not None else (None, load_app_config(settings))


def export_person(
    lh: Lakehouse, settings: Settings, name: str, also: Sequence[str], out: Path, actor: str
) -> dict[str, Any]:
    """Write everything held about a person to `out` (JSON, owner-only); every section is present, empty
    when nothing is held there. The export is audited. Returns the document."""
    db, conf = _open(settings)
    try:
        person = find_person(settings, name, also, db, conf)
        m = person.matcher
        doc: dict[str, Any] = {
            "subject": {"user": person.name, "also": list(person.also)},
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            **{section: [] for section in SECTIONS},
        }
        if db is not None:
            doc.update(export_app_records(db, m))
        doc.update(export_app_files(conf, m))
        doc["upload_batch_log"] = _upload_log_rows(lh, m)
        doc["bake_override_records"] = _override_rows(lh, m)
        doc.update(_raw_text_rows(lh, m))
        doc.update(gdpr_files.source_files(settings, conf, m, taken_files(lh)))
        doc["retrain_requests"] = gdpr_files.retrain_requests(settings, m)
        doc["log_lines"] = gdpr_files.log_lines(settings, m)
        doc["found"] = {section: len(doc[section]) for section in SECTIONS}
        _write_private(out, doc)
        if db is not None:
            audit.record(db, actor, "gdpr.exported", person.name, found=sum(doc["found"].values()))
    finally:
        if db is not None:
            db.dispose()
    return doc


def _write_private(path: Path, doc: dict[str, Any]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2, default=str, ensure_ascii=False)
        fh.write("\n")


def erase_person(
    lh: Lakehouse, settings: Settings, name: str, also: Sequence[str], actor: str
) -> dict[str, Any]:
    """Erase a person everywhere (see the module doc). Returns the pseudonym used (None when nothing was
    held), the count per place, the landing files left to erase once ingested, and the tables whose history
    an interrupted erasure left to purge."""
    db, conf = _open(settings)
    try:
        m = find_person(settings, name, also, db, conf).matcher
        token = ERASED + secrets.token_hex(6)
        purged = _finish_pending(lh, settings)
        counts = dict.fromkeys(SECTIONS, 0)
        counts["upload_batch_log"] = _erase_column(
            lh, settings, *UPLOAD_BATCHES, "uploaded_by", _named(m, "uploaded_by"), F.lit(token)
        )
        for table in OVERRIDE_TABLES:
            counts["bake_override_records"] += _erase_column(
                lh, settings, *table, "username", _named(m, "username"), F.lit(token)
            )
        for layer, table, column, _key in _raw_text_tables(lh) if m.pattern else []:
            section = "bronze_rescued_data" if layer == "bronze" else "quarantined_rows"
            counts[section] += _erase_column(
                lh,
                settings,
                layer,
                table,
                column,
                F.col(column).rlike(m.pattern),
                F.regexp_replace(F.col(column), m.pattern, token),
            )
        counts["retrain_requests"] = gdpr_files.erase_retrain_requests(settings, m, token)
        counts.update(erase_app_files(conf, m, token))
        sources, left = gdpr_files.erase_source_files(settings, conf, m, token, taken_files(lh))
        counts.update(sources)
        counts["log_lines"] = gdpr_files.erase_log_lines(settings, m, token)
        if db is not None:
            counts.update(erase_app_records(db, m, token, actor=actor, elsewhere=counts))
    finally:
        if db is not None:
            db.dispose()
    erased = any(counts.values())
    log.info(
        "gdpr: erasure %s: %d records in %d places",
        token if erased else "found nothing",
        sum(counts.values()),
        sum(1 for v in counts.values() if v),
    )
    return {"pseudonym": token if erased else None, "erased": counts, "left": left, "history_purged": purged}
