"""One person's records in the app database and the app's files: found, exported, erased (docs/privacy.md).

A person is matched by every form the system keeps of them (bakery.admin.gdpr gathers those): a field equal to
one of them in any case, or, inside free text (audit details, JSON files, log lines), one of them as a whole
word: `ana` is found in `by ana.` but not in `banana` or `ana@example.org`. A form shorter than
MIN_TEXT_CHARS is matched only as a whole field, never inside text. Erasure deletes the account, its API
tokens and login counters, and puts the erasure's pseudonym wherever the person is named: the audit log,
the upload batches, the bake-plan overrides, the settings, the upload folders; a staged upload is removed.

The audit log is append-only for the app (triggers made by the first migration). Only an erasure and the
retention change it, in one transaction that drops the triggers, makes the change and creates them again
(`audit_log_writable`): either all of it commits or none of it.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from bakery.app.appconf import AppConfig, load_app_config
from bakery.app.db import (
    ApiToken,
    AuditEvent,
    BakeOverride,
    Database,
    LoginAttempt,
    SettingValue,
    UploadBatch,
    User,
)
from bakery.config import Settings

log = logging.getLogger(__name__)

MIN_TEXT_CHARS = 3
MAX_IDENTIFIER_CHARS = 320
_WORD = "A-Za-z0-9_.@+-"  # characters of user names and e-mail addresses: a match may not touch one
_BEFORE = f"(?<![{_WORD}])"
_AFTER = f"(?![{_WORD.replace('.', '')}]|[.][{_WORD}])"  # a dot may end the sentence after a name
_GUARDS = {  # the append-only guards of audit_log, as migration 0001 creates them
    "sqlite": (
        "DROP TRIGGER IF EXISTS audit_log_no_{verb}",
        "CREATE TRIGGER audit_log_no_{verb} BEFORE {VERB} ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    ),
    "postgresql": (
        "DROP RULE IF EXISTS audit_log_no_{verb} ON audit_log",
        "CREATE RULE audit_log_no_{verb} AS ON {VERB} TO audit_log DO INSTEAD NOTHING",
    ),
}


def check_identifier(text: str, what: str) -> str:
    """An identifier of a person, trimmed; ValueError naming `what` (e.g. --user) when it cannot be one."""
    value = (text or "").strip()
    if not value:
        raise ValueError(f"{what}: expected a user name or another identifier, got an empty value")
    if len(value) > MAX_IDENTIFIER_CHARS:
        raise ValueError(f"{what}: at most {MAX_IDENTIFIER_CHARS} characters, got {len(value)}")
    if any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 or ord(c) > 0xFFFF for c in value):
        raise ValueError(
            f"{what} {value[:60]!r}: control characters and characters outside the Basic "
            "Multilingual Plane are not identifiers"
        )
    return value


def _escaped(text: str) -> str:
    """A literal that Python's and Java's (Spark's) regular expressions read the same way."""
    return "".join(c if c.isascii() and c.isalnum() else f"\\u{ord(c):04x}" for c in text)


class Matcher:
    """Finds one person's forms in fields, free text and JSON values (see the module doc)."""

    def __init__(self, forms: Iterable[str]) -> None:
        seen: dict[str, str] = {}
        for form in forms:
            seen.setdefault(check_identifier(form, "identifier").lower(), form.strip())
        if not seen:
            raise ValueError("--user: a person needs at least one identifier")
        self.forms = tuple(seen.values())
        self.lowered = frozenset(seen)
        words = sorted((f for f in self.forms if len(f) >= MIN_TEXT_CHARS), key=len, reverse=True)
        # Linear: one alternation of literals between look-arounds of at most two characters.
        self.pattern = f"(?iu){_BEFORE}(?:{'|'.join(map(_escaped, words))}){_AFTER}" if words else None
        self._text = re.compile(self.pattern) if self.pattern else None

    def is_one(self, value: Any) -> bool:
        """A field that is one of the forms (any case, spaces around ignored)."""
        return isinstance(value, str) and value.strip().lower() in self.lowered

    def found_in(self, value: Any) -> bool:
        """A field that is one of the forms or, as text, holds one as a whole word."""
        return self.is_one(value) or self.found_in_text(value)

    def found_in_text(self, text: Any) -> bool:
        """Text (a log line, a raw source line) that holds one of the longer forms as a whole word."""
        return isinstance(text, str) and self._text is not None and self._text.search(text) is not None

    def replace_text(self, text: str, pseudonym: str) -> str:
        """Text with every whole-word mention of a longer form replaced; line ends and spacing kept."""
        return self._text.sub(lambda _m: pseudonym, text) if self._text is not None else text

    def replace(self, value: Any, pseudonym: str) -> Any:
        """A field, text or JSON-like value (dicts, lists) with every mention replaced by `pseudonym`."""
        if isinstance(value, dict):
            return {k: self.replace(v, pseudonym) for k, v in value.items()}
        if isinstance(value, list):
            return [self.replace(v, pseudonym) for v in value]
        if not isinstance(value, str):
            return value
        return pseudonym if self.is_one(value) else self.replace_text(value, pseudonym)

    def mentions(self, value: Any) -> bool:
        """Whether a JSON-like value mentions the person anywhere."""
        return self.replace(value, "\x00") != value


def open_app_db(settings: Settings) -> tuple[Database, AppConfig] | None:
    """The home's app database and config; None when it is a SQLite file that does not exist (no app has run
    here), so that looking for personal data never creates one."""
    conf = load_app_config(settings)
    url = conf.database_url
    if url.startswith("sqlite:///") and not Path(url.split("///", 1)[1].split("?", 1)[0]).exists():
        return None
    return Database(url), conf


@contextmanager
def audit_log_writable(s: Session) -> Iterator[None]:
    """Inside the caller's transaction (begun with Database.serialized): the audit log's append-only guards
    dropped for the block, then created again; a failure rolls the whole transaction back, guards included."""
    conn = s.connection()
    drop, create = _GUARDS.get(conn.dialect.name, ("", ""))
    for verb in ("update", "delete"):
        if drop:
            conn.exec_driver_sql(drop.format(verb=verb))
    yield
    for verb in ("update", "delete"):
        if create:
            conn.exec_driver_sql(create.format(verb=verb, VERB=verb.upper()))


# ---- what the app database holds about a person ------------------------------------------------------------
def _iso(value: datetime | float | None) -> str | None:
    if value is None:
        return None
    when = value if isinstance(value, datetime) else datetime.fromtimestamp(value, UTC)
    return when.isoformat(timespec="seconds")


def _users(s: Session, m: Matcher) -> list[User]:
    return list(s.scalars(select(User).where(func.lower(User.username).in_(m.lowered))).all())


def _audit_rows(s: Session, m: Matcher) -> list[AuditEvent]:
    """Audit rows naming the person as actor or target or in their details (a LIKE pre-filter, then exact)."""
    cols = (AuditEvent.actor, AuditEvent.target, AuditEvent.detail)
    near = or_(*(func.lower(c).contains(form.lower(), autoescape=True) for c in cols for form in m.forms))
    rows = s.scalars(select(AuditEvent).where(near).order_by(AuditEvent.id)).all()
    return [r for r in rows if m.found_in(r.actor) or m.found_in(r.target) or m.mentions(_detail(r.detail))]


def _detail(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return text


def _batches(s: Session, m: Matcher) -> list[UploadBatch]:
    who = or_(
        func.lower(UploadBatch.uploaded_by).in_(m.lowered), func.lower(UploadBatch.deleted_by).in_(m.lowered)
    )
    return list(s.scalars(select(UploadBatch).where(who).order_by(UploadBatch.uploaded_at)).all())


def _overrides(s: Session, m: Matcher) -> list[BakeOverride]:
    who = func.lower(BakeOverride.username).in_(m.lowered)
    return list(s.scalars(select(BakeOverride).where(who).order_by(BakeOverride.created_at)).all())


def _attempts(s: Session, m: Matcher) -> list[LoginAttempt]:
    return list(s.scalars(select(LoginAttempt).where(func.lower(LoginAttempt.subject).in_(m.lowered))).all())


def _settings(s: Session, m: Matcher) -> list[SettingValue]:
    return list(
        s.scalars(select(SettingValue).where(func.lower(SettingValue.updated_by).in_(m.lowered))).all()
    )


def export_app_records(db: Database, m: Matcher) -> dict[str, Any]:
    """The person's accounts (no password hash), API tokens (no hashes), audit rows, login counters, settings
    changed and upload batches, as JSON-ready values."""
    with db.session() as s:
        users = _users(s, m)
        ids = [u.id for u in users]
        tokens = s.scalars(select(ApiToken).where(ApiToken.user_id.in_(ids)).order_by(ApiToken.id)).all()
        return {
            "accounts": [
                {
                    "username": u.username,
                    "role": u.role,
                    "stores": u.store_list,
                    "active": u.active,
                    "has_password": u.password_hash is not None,
                    "created_at": _iso(u.created_at),
                    "updated_at": _iso(u.updated_at),
                }
                for u in users
            ],
            "api_tokens": [
                {"created_at": _iso(t.created_at), "expires_at": _iso(t.expires_at), "revoked": t.revoked}
                for t in tokens
            ],
            "audit_log": [
                {
                    "id": r.id,
                    "at": _iso(r.at),
                    "actor": r.actor,
                    "action": r.action,
                    "target": r.target,
                    "success": r.success,
                    "ip": r.ip,
                    "detail": _detail(r.detail),
                }
                for r in _audit_rows(s, m)
            ],
            "login_attempts": [
                {
                    "scope": a.scope,
                    "name": a.subject,
                    "client": a.client or None,
                    "attempts": a.attempts,
                    "blocked_until": _iso(a.blocked_until or None),
                    "known_until": _iso(a.known_until or None),
                    "expires_at": _iso(a.expires_at),
                }
                for a in _attempts(s, m)
            ],
            "settings_changed": [
                {"key": v.key, "value": _detail(v.value), "updated_at": _iso(v.updated_at)}
                for v in _settings(s, m)
            ],
            "upload_batches": [
                {
                    "batch_id": b.batch_id,
                    "kind": b.kind,
                    "file": b.original_name,
                    "status": b.status,
                    "uploaded_by": b.uploaded_by,
                    "uploaded_at": _iso(b.uploaded_at),
                    "deleted_by": b.deleted_by,
                    "deleted_at": _iso(b.deleted_at),
                    "rows_loaded": b.rows_loaded,
                }
                for b in _batches(s, m)
            ],
            "bake_overrides": [
                {
                    "id": o.id,
                    "store_id": o.store_id,
                    "product_id": o.product_id,
                    "date": o.date.isoformat(),
                    "plan_quantity": o.plan_quantity,
                    "quantity": o.quantity,
                    "reason_code": o.reason_code,
                    "note": o.note,
                    "username": o.username,
                    "created_at": _iso(o.created_at),
                }
                for o in _overrides(s, m)
            ],
        }


def erase_app_records(
    db: Database, m: Matcher, pseudonym: str, *, actor: str, elsewhere: dict[str, int]
) -> dict[str, int]:
    """Delete the account, its tokens and login counters; put `pseudonym` in place of the person in the audit
    log, the upload batches and the settings. One transaction, which also appends the erasure's own audit record
    (actor, the pseudonym as target, the counts here and `elsewhere`) when anything was erased at all."""
    sqlite = db.engine.dialect.name == "sqlite"
    with db.serialized("audit_log") as s:
        if sqlite:  # deleted and rewritten values are zeroed in the file, not left in free space
            s.connection().exec_driver_sql("PRAGMA secure_delete = ON")
        users = _users(s, m)
        ids = [u.id for u in users]
        counts = {
            "accounts": len(users),
            "api_tokens": s.execute(delete(ApiToken).where(ApiToken.user_id.in_(ids))).rowcount or 0,
        }
        for u in users:
            s.delete(u)
        attempts = _attempts(s, m)
        for a in attempts:
            s.delete(a)
        counts["login_attempts"] = len(attempts)
        rows = _audit_rows(s, m)
        if rows:
            with audit_log_writable(s):
                for r in rows:
                    if m.found_in(r.actor):
                        r.ip = None  # the person's address
                    r.actor, r.target = m.replace(r.actor, pseudonym), m.replace(r.target, pseudonym)
                    detail = _detail(r.detail)
                    r.detail = (
                        json.dumps(m.replace(detail, pseudonym), default=str, sort_keys=True)
                        if isinstance(detail, dict | list)
                        else m.replace(r.detail, pseudonym)
                    )
                s.flush()
        counts["audit_log"] = len(rows)
        batches = _batches(s, m)
        for b in batches:
            b.uploaded_by, b.deleted_by = (
                m.replace(b.uploaded_by, pseudonym),
                m.replace(b.deleted_by, pseudonym),
            )
        counts["upload_batches"] = len(batches)
        overrides = _overrides(s, m)
        for o in overrides:  # the change and its reason stay (they are the store's), not who made it
            o.username = pseudonym
        counts["bake_overrides"] = len(overrides)
        values = _settings(s, m)
        for v in values:
            v.updated_by = pseudonym
        counts["settings_changed"] = len(values)
        total = {**elsewhere, **counts}
        if any(total.values()):
            s.add(
                AuditEvent(
                    actor=actor,
                    action="gdpr.erased",
                    target=pseudonym,
                    success=True,
                    detail=json.dumps(total, sort_keys=True),
                )
            )
    if sqlite:  # and the page images of before, in the write-ahead log, go too
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    if any(total.values()):
        log.info("audit %s gdpr.erased %s", actor, pseudonym)
    return counts


# ---- the app's files: upload folders and staged uploads ----------------------------------------------------
def staging_dir(conf: AppConfig) -> Path:
    """Where uploads wait for mapping and validation (bakery.app.uploads stages them here)."""
    return conf.app_dir / "staging"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def _batch_files(conf: AppConfig, m: Matcher) -> list[tuple[Path, Any]]:
    root = conf.uploads_dir
    files = sorted(root.glob("*/batch.json")) if root.is_dir() else []
    return [(p, record) for p in files if m.mentions(record := _read_json(p))]


def _staged(conf: AppConfig, m: Matcher) -> list[tuple[Path, dict[str, Any]]]:
    root = staging_dir(conf)
    metas = sorted(root.glob("*/meta.json")) if root.is_dir() else []
    return [
        (p.parent, meta)
        for p in metas
        if isinstance(meta := _read_json(p), dict) and m.is_one(meta.get("owner"))
    ]


def export_app_files(conf: AppConfig, m: Matcher) -> dict[str, list[dict[str, Any]]]:
    """The upload folders whose record names the person, and the uploads they staged but did not load."""
    return {
        "upload_files": [
            {"file": p.relative_to(conf.home).as_posix(), "record": record}
            for p, record in _batch_files(conf, m)
        ],
        "staged_uploads": [
            {
                "kind": meta.get("kind"),
                "file": meta.get("original_name"),
                "bytes": meta.get("size"),
                "staged_at": _iso(folder.stat().st_mtime),
            }
            for folder, meta in _staged(conf, m)
        ],
    }


def erase_app_files(conf: AppConfig, m: Matcher, pseudonym: str) -> dict[str, int]:
    """The person replaced by `pseudonym` in upload folder records; their staged uploads removed."""
    batches = _batch_files(conf, m)
    for path, record in batches:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(m.replace(record, pseudonym), indent=2, default=str), encoding="utf-8")
        tmp.replace(path)
    staged = _staged(conf, m)
    for folder, _meta in staged:
        shutil.rmtree(folder, ignore_errors=True)
    return {"upload_files": len(batches), "staged_uploads": len(staged)}
