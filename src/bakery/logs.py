"""Logging set-up for entry points: one format, third-party chatter silenced once."""

from __future__ import annotations

import io
import logging
import os
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, redirect_stderr
from pathlib import Path

_NOISY = (
    "py4j",
    "cmdstanpy",
    "prophet",
    "pyspark",
    "great_expectations",
    "urllib3",
    "werkzeug",
    "mlflow",
    "alembic",
    "hyperopt",
    "numexpr",
    "matplotlib",
    "asyncio",
)


# C0 and C1 control characters plus the Unicode line and paragraph separators: anything that could start a
# new line in a log file or act as a terminal escape sequence.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_one(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def escape_controls(text: str) -> str:
    """`text` on one line: newlines and other control characters written as visible escapes (\\n, \\x1b)."""
    return _CONTROLS.sub(_escape_one, text)


class EscapingFormatter(logging.Formatter):
    """One log record, one line: a user value with a newline cannot forge a second record. Tracebacks, which
    the formatter appends after the message, keep their lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        message = record.message
        record.message = escape_controls(message)
        try:
            return super().formatMessage(record)
        finally:
            record.message = message


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_lines(logger: logging.Logger, lines: Iterable[str], level: int = logging.INFO) -> None:
    """A multi-line report (a job summary) as one record per line: a record's own newlines are escaped, so a
    block logged as one message would print as one long line."""
    for line in lines:
        logger.log(level, "%s", line)


def setup_logging(level: int = logging.INFO, log_dir: Path | None = None) -> None:
    """Configure the root logger for a CLI or job run; called once at the entry point."""
    # MLflow configures its own logger at import (INFO, own handler); this keeps it to warnings.
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_dir / "bakery.log", encoding="utf-8"))
    formatter = EscapingFormatter(LOG_FORMAT)
    for handler in handlers:
        handler.setFormatter(formatter)
    logging.basicConfig(level=level, handlers=handlers, force=True)
    for name in _NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("cmdstanpy").disabled = True


@contextmanager
def mlflow_migrations_quiet() -> Iterator[None]:
    """MLflow's SQLite migrations run alembic's fileConfig, which replaces the root logger's handlers
    and level; put ours back and keep the migration chatter out of the job's log."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    for name in (
        "alembic",
        "sqlalchemy.engine",
    ):  # an up-to-date store logs its schema check without a fileConfig
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        with redirect_stderr(io.StringIO()):  # the console handler fileConfig adds binds to this
            yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name in ("alembic", "sqlalchemy.engine"):
            logging.getLogger(name).setLevel(logging.WARNING)
