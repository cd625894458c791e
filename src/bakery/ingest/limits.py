"""How much of a file the readers and the validation will take: rows, columns, decoded bytes, cell length.

The values live under `ingest:` in conf/base.yml. Every entry point that reads user files passes its
settings' limits (`bakery import`, bronze ingest); code that has no settings at hand (the web app's upload
parser) gets the limits of the conf dir in use (BAKERY_CONF_DIR / BAKERY_ENV, as load_settings).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bakery.config import Settings, load_settings, required

# key in IngestLimits -> conf key under `ingest:`
_KEYS = {
    "max_rows": "max_rows",
    "max_columns": "max_columns",
    "max_decoded_bytes": "max_decoded_bytes",
    "max_cell_chars": "max_cell_chars",
    "batch_rows": "read_batch_rows",
    "max_archive_members": "max_archive_members",
}


@dataclass(frozen=True)
class IngestLimits:
    """Limits checked before a file is decoded (from its metadata) and again while it is read."""

    max_rows: int
    max_columns: int
    max_decoded_bytes: int
    max_cell_chars: int
    batch_rows: int
    max_archive_members: int

    @classmethod
    def from_settings(cls, settings: Settings) -> IngestLimits:
        """The settings' `ingest:` values, each checked."""
        values: dict[str, Any] = {}
        for field_name, key in _KEYS.items():
            value = required(settings, f"ingest.{key}")
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"conf ingest.{key} must be a positive whole number, got {value!r}")
            values[field_name] = value
        return cls(**values)


@functools.lru_cache(maxsize=4)
def _conf_limits(conf_dir: str | None, env: str | None) -> IngestLimits:
    settings = load_settings(conf_dir=Path(conf_dir) if conf_dir else None, env=env or None)
    return IngestLimits.from_settings(settings)


def ingest_limits(settings: Settings | None = None) -> IngestLimits:
    """The limits of `settings`, or of the conf dir in use when there are none."""
    if settings is not None:
        return IngestLimits.from_settings(settings)
    return _conf_limits(os.environ.get("BAKERY_CONF_DIR"), os.environ.get("BAKERY_ENV"))
