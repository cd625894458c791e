"""Alembic environment for the app database.

`bakery.app.migrate` hands over an open connection; a developer writing a revision runs Alembic with
`sqlalchemy.url` set to a scratch database instead (docs/runbooks/app_database.md).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from bakery.app.db import Base

config = context.config
connection = config.attributes.get("connection")


def _run(conn) -> None:
    # render_as_batch: SQLite cannot ALTER most things in place; batch mode copies the table instead.
    context.configure(connection=conn, target_metadata=Base.metadata, render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=Base.metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()
elif connection is not None:
    _run(connection)
else:
    engine = create_engine(str(config.get_main_option("sqlalchemy.url")))
    with engine.begin() as conn:
        _run(conn)
