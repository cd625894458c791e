"""The local table store: delta-rs over <home>/tables, no Spark."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bakery.app.tablestore import Filter, check_filters

_LOG_FILE = re.compile(r"^(\d{20})\.json$")


class LocalDeltaReader:
    """delta-rs over <home>/tables/<layer>/<name>; the version comes from the newest commit file."""

    def __init__(self, tables_dir: Path) -> None:
        self.tables_dir = Path(tables_dir)

    def _path(self, layer: str, name: str) -> Path:
        return self.tables_dir / layer / name

    def version(self, layer: str, name: str) -> int | None:
        log_dir = self._path(layer, name) / "_delta_log"
        try:
            with os.scandir(log_dir) as it:
                versions = [int(m.group(1)) for e in it if (m := _LOG_FILE.match(e.name))]
        except FileNotFoundError:
            return None
        return max(versions) if versions else None

    def read(
        self,
        layer: str,
        name: str,
        version: int,
        columns: Sequence[str] | None = None,
        filters: Sequence[Filter] = (),
    ) -> pd.DataFrame:
        from deltalake import DeltaTable

        check_filters(filters)
        dataset = DeltaTable(str(self._path(layer, name)), version=version).to_pyarrow_dataset()
        wanted = [c for c in columns if c in dataset.schema.names] if columns else None
        expr = None
        for col, op, value in filters:
            term = _arrow_term(col, op, value)
            expr = term if expr is None else expr & term
        return dataset.to_table(columns=wanted, filter=expr).to_pandas()

    def count(self, layer: str, name: str, version: int) -> int:
        from deltalake import DeltaTable

        table = DeltaTable(str(self._path(layer, name)), version=version)
        if not table.file_uris():
            return 0  # every row deleted (delta-rs panics listing no add actions)
        records = pa.table(table.get_add_actions(flatten=True)).column("num_records")
        if records.null_count:  # files written without statistics: count by reading one column
            return table.to_pyarrow_dataset().count_rows()
        return int(pc.sum(records).as_py() or 0)

    def append(self, layer: str, name: str, rows: pd.DataFrame, schema: pa.Schema) -> None:
        """Append rows with delta-rs (the app's own ops records; never the business tables)."""
        from deltalake import write_deltalake

        write_deltalake(
            str(self._path(layer, name)),
            pa.Table.from_pandas(rows, schema=schema, preserve_index=False),
            mode="append",
        )


def _arrow_term(col: str, op: str, value: Any):
    f = pc.field(col)
    if op == "in":
        return f.isin(list(value))
    return {
        "=": f == value,
        "!=": f != value,
        "<": f < value,
        "<=": f <= value,
        ">": f > value,
        ">=": f >= value,
    }[op]
