"""ops.upload_batches: the log of upload batch status changes (one row per change; the latest row of a
batch_id is its status). The app's uploads write it; silver reads it to leave out deleted or replaced batches.

The one writer of the table. It writes through whatever store the app serves from (delta-rs locally, the SQL
warehouse on Databricks), so it takes that store rather than a Spark Lakehouse: the app has no Spark.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import pandas as pd
import pyarrow as pa

from bakery.tables import UPLOAD_BATCHES, arrow_schema

SCHEMA: pa.Schema = arrow_schema(UPLOAD_BATCHES)


class BatchLogStore(Protocol):
    """The part of a table store the log needs: the table's version, a read, and an append."""

    def version(self, layer: str, name: str) -> int | None: ...

    def read(
        self,
        layer: str,
        name: str,
        version: int,
        columns: Sequence[str] | None = None,
        filters: Sequence[tuple[str, str, Any]] = (),
    ) -> pd.DataFrame: ...

    def append(self, layer: str, name: str, rows: pd.DataFrame, schema: pa.Schema) -> None: ...


def append_events(store: BatchLogStore, rows: pd.DataFrame) -> None:
    """Append status events (columns of SCHEMA) in one write, so related events land together."""
    store.append(*UPLOAD_BATCHES, rows[SCHEMA.names], SCHEMA)


def latest_statuses(store: BatchLogStore) -> dict[str, str]:
    """{batch_id: latest status} as logged (empty before the first event)."""
    version = store.version(*UPLOAD_BATCHES)
    if version is None:
        return {}
    events = store.read(*UPLOAD_BATCHES, version, columns=["batch_id", "status", "changed_at"])
    return events.sort_values("changed_at", kind="stable").groupby("batch_id")["status"].last().to_dict()
