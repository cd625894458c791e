"""The local SQL engine of dashboards: DuckDB in this process over the home's Delta tables, read by delta-rs
as Arrow datasets (projection and filters pushed down, no JVM). Tables are re-read when their Delta version
changes; a query's result is cached under its SQL and the versions of the tables it reads."""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path

import duckdb
import pandas as pd
from sqlglot import exp

from bakery.config import Settings
from bakery.dashboards.model import DashboardError, Dataset
from bakery.dashboards.sql import TableRef, parse_query, repoint, table_refs, to_sql

log = logging.getLogger(__name__)
_COMMIT = re.compile(r"(\d{20})\.json")
DIALECT = "duckdb"


class MissingTable(LookupError):
    pass


def layer_of(settings: Settings, schema: str | None, default: str | None) -> str:
    """The layer a dataset's schema names: a layer itself or the configured schema of one."""
    name = schema or default or "gold"
    by_schema = {v: k for k, v in (settings.get("storage.schemas", {}) or {}).items()}
    return by_schema.get(name, name)


class LocalEngine:
    """Runs dashboard SQL over one home. Thread-safe: one DuckDB connection used under a lock (the queries
    of a dashboard take milliseconds each, so a lock costs less than a connection per request)."""

    def __init__(self, settings: Settings, cache_size: int = 512) -> None:
        self.settings = settings
        self.tables_dir = Path(settings.tables_dir)
        # The layers are the keys of storage.schemas (bakery.lakehouse.LAYERS, not imported: it loads pyspark,
        # which the app's request path never does). A schema naming anything else reads no directory.
        self.layers = frozenset((settings.get("storage.schemas", {}) or {}).keys())
        self._con = duckdb.connect(":memory:")
        # Timestamps to dates in UTC, as Spark's SQL time zone (conf/base.yml). A dashboard reads the registered tables
        # and nothing else: no file, URL or extension a SELECT could name, and no later SET turns that back on.
        for setting in ("TimeZone = 'UTC'", "enable_external_access = false", "lock_configuration = true"):
            self._con.execute(f"SET {setting}")
        self._lock = threading.Lock()
        self._registered: dict[str, int] = {}
        self._cache: OrderedDict[tuple, pd.DataFrame] = OrderedDict()
        self._sql: OrderedDict[Hashable, tuple[str, dict[str, tuple[str, str]]]] = OrderedDict()
        self._cache_size = cache_size

    # ---- tables ------------------------------------------------------------------------------
    def table_path(self, layer: str, name: str) -> Path:
        return self.tables_dir / layer / name

    def version(self, layer: str, name: str) -> int | None:
        """The table's Delta version from its newest commit file (a directory listing), None if absent."""
        log_dir = self.table_path(layer, name) / "_delta_log"
        if layer not in self.layers or not log_dir.is_dir():
            return None
        found = [int(m.group(1)) for p in log_dir.iterdir() if (m := _COMMIT.fullmatch(p.name))]
        return max(found) if found else None

    def resolve(self, ref: TableRef, ds: Dataset) -> tuple[str, str]:
        return layer_of(self.settings, ref.schema, ds.schema), ref.name

    def _view(self, layer: str, name: str, version: int) -> str:
        view = f"{layer}__{name}"
        if self._registered.get(view) != version:
            from deltalake import DeltaTable

            dataset = DeltaTable(str(self.table_path(layer, name))).to_pyarrow_dataset()
            self._con.register(view, dataset)
            self._registered[view] = version
        return view

    # ---- queries -----------------------------------------------------------------------------
    def prepare(self, ds: Dataset, file: str) -> tuple[exp.Query, dict[str, tuple[str, str]]]:
        """The dataset parsed (SELECT only) and the tables it reads, by local view name."""
        tree = parse_query(ds.sql, file, ds.name)
        tables = {}
        for ref in table_refs(tree):
            layer, name = self.resolve(ref, ds)
            tables[f"{layer}__{name}"] = (layer, name)
        return tree, tables

    def local_tree(self, tree: exp.Query, ds: Dataset) -> exp.Query:
        def target(ref: TableRef) -> exp.Table:
            layer, name = self.resolve(ref, ds)
            return exp.table_(f"{layer}__{name}", quoted=True)

        return repoint(tree, target)

    def compiled(
        self, key: Hashable, build: Callable[[], tuple[exp.Query, dict[str, tuple[str, str]]]]
    ) -> tuple[str, dict[str, tuple[str, str]]]:
        """DuckDB SQL built once per key (a query's text and filters): building it with sqlglot costs more
        than running it on a warm cache. Errors are not cached: a fixed file is read again."""
        with self._lock:
            hit = self._sql.get(key)
        if hit is not None:
            return hit
        tree, tables = build()
        out = (to_sql(tree, DIALECT), tables)
        with self._lock:
            self._sql[key] = out
            if len(self._sql) > self._cache_size:
                self._sql.popitem(last=False)
        return out

    def run_sql(self, sql: str, tables: dict[str, tuple[str, str]], file: str, dataset: str) -> pd.DataFrame:
        """Run DuckDB SQL over local views and return its rows; cached under the SQL and the tables' Delta
        versions. DuckErrors become DashboardError naming file, dataset and (when DuckDB names one) column."""
        versions = {}
        for view, (layer, name) in tables.items():
            version = self.version(layer, name)
            if version is None:
                raise DashboardError(file, f"table {layer}.{name} does not exist in this home", dataset)
            versions[view] = version
        key = (sql, tuple(sorted(versions.items())))
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
            for view, (layer, name) in tables.items():
                self._view(layer, name, versions[view])
            try:
                df = self._con.execute(sql).fetch_arrow_table().to_pandas()
            except duckdb.Error as exc:
                message = str(exc).splitlines()[0]
                column = re.search(r'column "?([^"\s]+)"? not found', message, re.IGNORECASE)
                raise DashboardError(file, message, dataset, column.group(1) if column else None) from exc
            self._cache[key] = df
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            return df

    def run(
        self, query: exp.Query, tables: dict[str, tuple[str, str]], file: str, dataset: str
    ) -> pd.DataFrame:
        """Run a query already re-pointed at local views."""
        return self.run_sql(to_sql(query, DIALECT), tables, file, dataset)

    def dataset(self, ds: Dataset, file: str, limit: int | None = None) -> pd.DataFrame:
        def build() -> tuple[exp.Query, dict[str, tuple[str, str]]]:
            tree, tables = self.prepare(ds, file)
            local = self.local_tree(tree, ds)
            if limit is not None:
                local = exp.select("*").from_(local.subquery("ds")).limit(limit)
            return local, tables

        sql, tables = self.compiled(("dataset", file, ds, limit), build)
        return self.run_sql(sql, tables, file, ds.name)

    def distinct(self, ds: Dataset, file: str, column: str) -> pd.DataFrame:
        """The distinct values of one column of a dataset (a filter's choices), computed by DuckDB: bringing
        the whole dataset into pandas to find them cost seconds at 200 stores."""

        def build() -> tuple[exp.Query, dict[str, tuple[str, str]]]:
            tree, tables = self._local_dataset(ds, file)
            col = exp.column(column, quoted=True)
            return exp.select(col).distinct().from_(tree.subquery("ds")), tables

        sql, tables = self.compiled(("distinct", file, ds, column), build)
        return self.run_sql(sql, tables, file, ds.name)

    def signature(self, file: str, datasets: Iterable[Dataset]) -> tuple:
        """What a rendering of these datasets depends on besides its filters: their text and the Delta versions
        of the tables they read (None for a dataset that does not parse or a table that is missing)."""
        out = []
        for ds in datasets:
            try:
                _, tables = self.compiled(
                    ("dataset", file, ds, None), lambda ds=ds: self._local_dataset(ds, file)
                )
            except DashboardError:
                out.append((ds, None))
                continue
            out.append((ds, tuple(self.version(layer, name) for layer, name in tables.values())))
        return tuple(out)

    def _local_dataset(self, ds: Dataset, file: str) -> tuple[exp.Query, dict[str, tuple[str, str]]]:
        tree, tables = self.prepare(ds, file)
        return self.local_tree(tree, ds), tables

    def close(self) -> None:
        with self._lock:
            self._con.close()
