"""The app database (SQLAlchemy): users, login attempts, API tokens, audit log, settings, upload batches, bake-plan
overrides."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    create_engine,
    event,
    select,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

ROLES = ("manager", "analyst", "admin")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timestamps stored naive-UTC (SQLite has no time zones) and returned timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class Base(DeclarativeBase):
    pass


class User(Base):
    """An account: role plus, for managers, the stores they may see (comma-separated)."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(200), unique=True, index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    role: Mapped[str] = mapped_column(String(16))
    stores: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Rotated on logout, password or role change: every session cookie carrying the old nonce dies.
    session_nonce: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def store_list(self) -> list[str]:
        return [s for s in self.stores.split(",") if s]


class LoginAttempt(Base):
    """A login throttle counter: per client address (scope `ip`), per user name and client (`user_ip`), or
    per user name from anywhere (`user`). Names that are not accounts are kept as `unknown:<hash>`. Times are
    epoch seconds, so the throttle's arithmetic stays in one locked transaction; a row is deleted once
    `expires_at` has passed."""

    __tablename__ = "login_attempts"
    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    subject: Mapped[str] = mapped_column(String(200), primary_key=True)
    client: Mapped[str] = mapped_column(String(64), primary_key=True)  # "" for the per-name scope
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # since window_start, successes excluded
    window_start: Mapped[float] = mapped_column(Float, default=0.0)
    blocked_until: Mapped[float] = mapped_column(Float, default=0.0)
    delay: Mapped[float] = mapped_column(Float, default=0.0)  # the next wait once over the limit
    refused: Mapped[int] = mapped_column(Integer, default=0)  # refusals during the current block
    known_until: Mapped[float] = mapped_column(Float, default=0.0)  # user_ip: a recent successful login
    expires_at: Mapped[float] = mapped_column(Float, index=True)


class ApiToken(Base):
    """A bearer token for the HTTP API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditEvent(Base):
    """One audited action. The table is append-only (a trigger or rule, made by the first migration, refuses
    UPDATE and DELETE)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str | None] = mapped_column(String(500), nullable=True)
    success: Mapped[bool] = mapped_column(Boolean, default=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)

    def detail_dict(self) -> dict[str, Any]:
        return json.loads(self.detail) if self.detail else {}


class SettingValue(Base):
    """An admin-changed global setting (JSON value); absent keys use conf/app.yml defaults."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200))


class UploadBatch(Base):
    """One upload: who, when, what file, the validation result, and where the accepted rows are kept."""

    __tablename__ = "upload_batches"
    batch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    original_name: Mapped[str] = mapped_column(String(500))
    file_hash: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    status: Mapped[str] = mapped_column(String(16))  # accepted | rejected | deleted | replaced
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_loaded: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    rows_duplicate: Mapped[int] = mapped_column(Integer, default=0)
    on_duplicate: Mapped[str] = mapped_column(String(16), default="skip")
    max_error_rate: Mapped[float] = mapped_column(default=0.0)
    path: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    report: Mapped[str | None] = mapped_column(Text, nullable=True)
    replaces: Mapped[str | None] = mapped_column(String(64), nullable=True)
    replaced_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    retrain_flagged: Mapped[bool] = mapped_column(Boolean, default=False)

    def report_dict(self) -> dict[str, Any]:
        return json.loads(self.report) if self.report else {}


class BakeOverride(Base):
    """A manager's change of one product's planned quantity for one store and day, with the plan's quantity it
    replaced and why. Rows are never changed: a new override of the same store, product and day wins (the latest
    created_at)."""

    __tablename__ = "bake_overrides"
    __table_args__ = (Index("ix_bake_overrides_store_date", "store_id", "date", "product_id"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(100))
    product_id: Mapped[str] = mapped_column(String(100))
    date: Mapped[date] = mapped_column(Date)
    plan_quantity: Mapped[float] = mapped_column(Float)
    quantity: Mapped[float] = mapped_column(Float)
    reason_code: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    username: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _private_sqlite_file(path: Path) -> None:
    """Create the database file owner-only (0600) and tighten an older one: it holds password and token
    hashes. SQLite gives its -wal and -shm files the mode of the database file; older ones are tightened too."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for f in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if f.exists() and f.stat().st_mode & 0o077:
                f.chmod(0o600)
        except (
            PermissionError
        ):  # another account's file: say so, and let SQLite decide whether it can open it
            log.warning("%s is readable by others and not ours to change: chmod 600 it", f)


class Database:
    """An engine plus a session factory; migrates the schema to the newest revision on first use."""

    def __init__(self, url: str, migrate: bool = True) -> None:
        self.url = url
        kwargs: dict[str, Any] = {"future": True, "pool_pre_ping": True}
        if url.startswith("sqlite"):
            path = url.split("///", 1)[1].split("?", 1)[0] if "///" in url else ""
            if path and path != ":memory:" and not path.startswith("file:"):
                _private_sqlite_file(Path(path))
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
        self.engine: Engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        if migrate:
            from bakery.app.migrate import upgrade

            upgrade(self.engine)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back on error."""
        s = self._factory()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    @contextmanager
    def serialized(self, table: str) -> Iterator[Session]:
        """A unit of work that holds the write lock from its first statement, so a read-check-write on `table`
        is atomic across threads and worker processes (SQLite: BEGIN IMMEDIATE; PostgreSQL: a table lock that
        only writers of `table` wait for)."""
        with self.session() as s:
            conn = s.connection()
            if self.engine.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            elif self.engine.dialect.name == "postgresql":
                conn.execute(text(f'LOCK TABLE "{table}" IN SHARE ROW EXCLUSIVE MODE'))
            yield s

    def user(self, username: str) -> User | None:
        with self.session() as s:
            return s.scalar(select(User).where(User.username == username))

    def dispose(self) -> None:
        self.engine.dispose()
