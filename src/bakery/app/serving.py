"""The app's data access: which table store serves this deployment, and the cached queries over it.

Read-only: locally delta-rs reads the Delta tables under <home>/tables (bakery.app.local_reader); on Databricks a
SQL warehouse answers the same calls (bakery.app.warehouse), behind the `TableReader` boundary
(bakery.app.tablestore). The queries (bakery.app.queries) are cached under the versions of the tables they read
(bakery.app.cache). The app's one write, the upload log, goes through bakery.ops.upload_batches.
"""

from __future__ import annotations

import os
from typing import Any

from bakery.app.cache import ServingCache
from bakery.app.local_reader import LocalDeltaReader
from bakery.app.queries import (
    CLOSED_MODEL,
    NOT_OFFERED_MODEL,
    ForecastSnapshot,
    ServingData,
    parse_components,
)
from bakery.app.tablestore import Filter, TableReader
from bakery.app.warehouse import DatabricksSqlReader, build_select

__all__ = [
    "CLOSED_MODEL",
    "NOT_OFFERED_MODEL",
    "DatabricksSqlReader",
    "Filter",
    "ForecastSnapshot",
    "LocalDeltaReader",
    "ServingCache",
    "ServingData",
    "TableReader",
    "build_select",
    "make_serving",
    "parse_components",
]


def make_serving(settings: Any, conf: Any) -> ServingData:
    """The serving object for this deployment: local delta-rs, or a Databricks SQL warehouse."""
    backend = conf.get("serving.backend", "local")
    if backend == "databricks":
        warehouse = os.environ.get(str(conf.get("serving.warehouse_id_env", "DATABRICKS_WAREHOUSE_ID")), "")
        if not warehouse:
            raise ValueError(
                "serving.backend is databricks but no SQL warehouse id is set "
                f"(env {conf.get('serving.warehouse_id_env')})"
            )
        reader: TableReader = DatabricksSqlReader(
            settings.get("storage.catalog", "bakery"), settings.get("storage.schemas", {}) or {}, warehouse
        )
    elif backend == "local":
        reader = LocalDeltaReader(
            settings.tables_dir, compact_every=conf.get("serving.compact_appends_every", None)
        )
    else:
        raise ValueError(f"serving.backend {backend!r}: expected local or databricks")
    return ServingData(
        reader,
        version_check_seconds=float(conf.get("serving.version_check_seconds", 2)),
        cache_entries=int(conf.get("serving.cache_entries", 512)),
        history_days=int(conf.get("serving.history_days", 56)),
    )
