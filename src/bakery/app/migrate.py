"""Schema migrations of the app database (Alembic): upgrade to the newest revision, or report where it stands.

Databases created before migrations existed (tables but no `alembic_version`) are stamped at the first
revision, which describes exactly that schema, and then upgraded like any other.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

log = logging.getLogger(__name__)

SCRIPTS = Path(__file__).with_name("migrations")
BASELINE = "0001"  # the schema the app created with create_all before migrations were introduced


@dataclass(frozen=True)
class SchemaState:
    current: str | None
    head: str

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def alembic_config(conn: Connection) -> Config:
    """An Alembic config that runs on `conn` (for `alembic.command` calls in tools and tests)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    cfg.attributes["connection"] = conn
    return cfg


def head() -> str:
    rev = ScriptDirectory(str(SCRIPTS)).get_current_head()
    if rev is None:
        raise RuntimeError(f"no migrations under {SCRIPTS}")
    return rev


def state(engine: Engine) -> SchemaState:
    with engine.connect() as conn:
        return SchemaState(MigrationContext.configure(conn).get_current_revision(), head())


def upgrade(engine: Engine) -> SchemaState:
    """Bring the database to the newest revision; a database already there is left untouched."""
    for attempt in (1, 2):
        try:
            return _upgrade(engine)
        except OperationalError:
            # Another process (the CLI beside a starting app) migrated the same SQLite file at the same moment.
            if attempt == 2:
                raise
            log.warning("app database: concurrent migration detected, retrying")
    raise AssertionError("unreachable")


def _upgrade(engine: Engine) -> SchemaState:
    before = state(engine)
    if before.up_to_date:
        return before
    with engine.begin() as conn:
        cfg = alembic_config(conn)
        tables = set(inspect(conn).get_table_names())
        if before.current is None and "users" in tables:
            log.info("app database: pre-migration schema found, stamping revision %s", BASELINE)
            command.stamp(cfg, BASELINE)
        command.upgrade(cfg, "head")
    after = state(engine)
    log.info("app database: schema %s -> %s", before.current or "empty", after.current)
    return after
