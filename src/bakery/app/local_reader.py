"""The local table store: delta-rs over <home>/tables, no Spark."""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bakery.app.tablestore import Filter, check_filters

log = logging.getLogger(__name__)

# How often an append is written again when a concurrent compaction made its commit fail.
APPEND_ATTEMPTS = 5
_LOG_FILE = re.compile(r"^(\d{20})\.json$")


class LocalDeltaReader:
    """delta-rs over <home>/tables/<layer>/<name>; the version comes from the newest commit file.

    Its appends (the app's own ops records, one small commit per event) would leave a table of one file and one
    log entry per event, and every read opens them all: at 1,500 events a read of ops.upload_batches took 2-5 s.
    Every `compact_every` commits an append therefore also compacts the table's small files into one and writes
    a checkpoint, so a read opens a few files whatever the table's age. Compaction changes no row (delta-rs'
    optimize commits it with dataChange false), and appends that race it still commit: they only add files."""

    def __init__(self, tables_dir: Path, compact_every: int | None = None) -> None:
        if compact_every is not None and (
            isinstance(compact_every, bool) or not isinstance(compact_every, int) or compact_every < 2
        ):
            raise ValueError(
                f"serving.compact_appends_every: expected an integer >= 2 or null, got {compact_every!r}"
            )
        self.tables_dir = Path(tables_dir)
        self.compact_every = compact_every

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
        from deltalake.exceptions import CommitFailedError

        data = pa.Table.from_pandas(rows, schema=schema, preserve_index=False)
        for attempt in range(APPEND_ATTEMPTS):
            try:
                write_deltalake(str(self._path(layer, name)), data, mode="append")
                break
            except CommitFailedError:
                # A compaction (another worker's, see compact) committed between this append's read of the
                # table and its commit: nothing of this append was committed, and adding files never
                # conflicts with merging others, so writing again is safe.
                if attempt + 1 == APPEND_ATTEMPTS:
                    raise
                log.info("append to %s.%s met a concurrent compaction; writing again", layer, name)
                time.sleep(0.05 * (attempt + 1))
        version = self.version(layer, name)
        if self.compact_every and version and version % self.compact_every == 0:
            self.compact(layer, name)

    def compact(self, layer: str, name: str) -> None:
        """Merge the table's small files and checkpoint its log. A failure is logged, never raised: the append
        it follows has committed, and the next round tries again."""
        from deltalake import DeltaTable
        from deltalake.exceptions import CommitFailedError

        try:
            table = DeltaTable(str(self._path(layer, name)))
            metrics = table.optimize.compact()
            DeltaTable(str(self._path(layer, name))).create_checkpoint()
        except CommitFailedError as exc:  # an append raced it; the next round compacts
            log.info(
                "compacting %s.%s met a concurrent commit (%s); the next round tries again", layer, name, exc
            )
            return
        except Exception:
            log.exception("could not compact %s.%s; its reads stay slower until the next try", layer, name)
            return
        log.info(
            "compacted %s.%s: %s files into %s",
            layer,
            name,
            metrics.get("numFilesRemoved"),
            metrics.get("numFilesAdded"),
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
