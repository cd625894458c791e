"""Logging set-up for entry points: one format (text, or JSON lines), third-party chatter silenced once, and
the id of the run a record belongs to (`run_context`), the same id as the run's ops.runs row and its MLflow
runs' `bakery.run_id` tag."""

from __future__ import annotations

import io
import logging
import os
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, redirect_stderr
from contextvars import ContextVar
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
LOG_FORMAT_ENV = "BAKERY_LOG_FORMAT"  # text or json; wins over the config's logging.format
_RUN: ContextVar[tuple[str, str] | None] = ContextVar("bakery_run", default=None)


@contextmanager
def run_context(run_id: str, step: str) -> Iterator[None]:
    """Tag the records logged inside with the run: the outermost run's id (a job and all its steps share it)
    and the innermost step's name."""
    outer = _RUN.get()
    token = _RUN.set((outer[0] if outer else run_id, step))
    try:
        yield
    finally:
        _RUN.reset(token)


def current_run_id() -> str | None:
    """The id of the job run under way in this thread, or None outside one."""
    run = _RUN.get()
    return run[0] if run else None


def run_tag() -> dict[str, str]:
    """The MLflow tag that ties an MLflow run to the job run's logs and ops.runs row ({} outside a run)."""
    run_id = current_run_id()
    return {"bakery.run_id": run_id} if run_id else {}


class RunFilter(logging.Filter):
    """Puts `run_id` and `step` on every record (`-` outside a run), for the JSON lines and any format."""

    def filter(self, record: logging.LogRecord) -> bool:
        run = _RUN.get()
        record.run_id, record.step = run if run else ("-", "-")
        return True


def _json_formatter() -> logging.Formatter:
    """One JSON object a line: time, level, logger, message, run_id, step (and exc_info when there is one).
    JSON escapes control characters by construction, so a user value cannot forge a line."""
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(run_id)s %(step)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        json_ensure_ascii=False,
    )


def log_lines(logger: logging.Logger, lines: Iterable[str], level: int = logging.INFO) -> None:
    """A multi-line report (a job summary) as one record per line: a record's own newlines are escaped, so a
    block logged as one message would print as one long line."""
    for line in lines:
        logger.log(level, "%s", line)


def setup_logging(level: int = logging.INFO, log_dir: Path | None = None, fmt: str | None = None) -> None:
    """Configure the root logger for a CLI or job run; called once at the entry point. `fmt` is text (default)
    or json; $BAKERY_LOG_FORMAT wins over it."""
    fmt = (os.environ.get(LOG_FORMAT_ENV) or fmt or "text").lower()
    if fmt not in ("text", "json"):
        raise ValueError(f"logging.format (or ${LOG_FORMAT_ENV}) is {fmt!r}; expected text or json")
    # MLflow configures its own logger at import (INFO, own handler); this keeps it to warnings.
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_dir / "bakery.log", encoding="utf-8"))
    formatter = _json_formatter() if fmt == "json" else EscapingFormatter(LOG_FORMAT)
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(RunFilter())
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
