"""Where the app's tables live, behind one boundary: a table's version, a read of some columns and rows, a row
count. Local homes are read with delta-rs (bakery.app.local_reader), Databricks through a SQL warehouse
(bakery.app.warehouse). The one write, an append, is for the app's own ops records and goes through their
writer (bakery.ops.upload_batches); the business tables are never written here."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol

import pandas as pd
import pyarrow as pa

Filter = tuple[str, str, Any]  # (column, one of = != < <= > >= in, value)
_OPS = {"=", "!=", "<", "<=", ">", ">=", "in"}


class TableReader(Protocol):
    """Where the tables live. `version` is None for a table that does not exist (yet)."""

    def version(self, layer: str, name: str) -> int | None: ...

    def read(
        self,
        layer: str,
        name: str,
        version: int,
        columns: Sequence[str] | None = None,
        filters: Sequence[Filter] = (),
    ) -> pd.DataFrame: ...

    def count(self, layer: str, name: str, version: int) -> int: ...

    def append(self, layer: str, name: str, rows: pd.DataFrame, schema: pa.Schema) -> None: ...


def check_filters(filters: Sequence[Filter]) -> None:
    for col, op, _ in filters:
        if op not in _OPS or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", col):
            raise ValueError(f"bad filter {col!r} {op!r}")
