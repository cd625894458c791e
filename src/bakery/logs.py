"""Logging set-up for entry points: one format, third-party chatter silenced once."""

from __future__ import annotations

import io
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr
from pathlib import Path

_NOISY = ("py4j", "cmdstanpy", "prophet", "pyspark", "great_expectations", "urllib3", "werkzeug",
          "mlflow", "alembic", "hyperopt", "numexpr", "matplotlib", "asyncio")


def setup_logging(level: int = logging.INFO, log_dir: Path | None = None) -> None:
    """Configure the root logger for a CLI or job run; called once at the entry point."""
    # MLflow configures its own logger at import (INFO, own handler); this keeps it to warnings.
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_dir / "bakery.log", encoding="utf-8"))
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    for name in _NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("cmdstanpy").disabled = True


@contextmanager
def mlflow_migrations_quiet() -> Iterator[None]:
    """MLflow's SQLite migrations run alembic's fileConfig, which replaces the root logger's handlers
    and level; put ours back and keep the migration chatter out of the job's log."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    for name in ("alembic", "sqlalchemy.engine"):  # an up-to-date store logs its schema check without a fileConfig
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        with redirect_stderr(io.StringIO()):  # the console handler fileConfig adds binds to this
            yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name in ("alembic", "sqlalchemy.engine"):
            logging.getLogger(name).setLevel(logging.WARNING)
