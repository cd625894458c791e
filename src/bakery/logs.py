"""Logging set-up for entry points: one format, third-party chatter silenced once."""

from __future__ import annotations

import logging
import os
import sys
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
