"""Read-only data access for the app: the gold, silver and ops tables, cached until a new version lands.

No Spark and no model on the request path. Locally delta-rs reads the Delta tables under <home>/tables;
on Databricks a SQL warehouse answers the same calls behind the `TableReader` boundary. Every query is
cached under the versions of the tables it read, and a version check (at most every few seconds per
table) drops the entries of a table as soon as a newer version is committed.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from numbers import Integral, Real
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bakery.tables import (
    BACKTEST_METRICS,
    DAILY_SALES,
    DQ_RESULTS,
    EVENTS,
    FORECASTS,
    INVENTORY_DAILY,
    PRODUCTS,
    QUARANTINE,
    RUNS,
    STORES,
)

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.service.sql import ColumnInfo, StatementResponse

log = logging.getLogger(__name__)

Filter = tuple[str, str, Any]  # (column, one of = != < <= > >= in, value)
_OPS = {"=", "!=", "<", "<=", ">", ">=", "in"}
_LOG_FILE = re.compile(r"^(\d{20})\.json$")

# gold.forecasts' model on a day the store is expected to be closed (bakery.models.opening) and on a day a product
# is expected off sale (bakery.models.offering): yhat 0 on both.
CLOSED_MODEL = "closed"
NOT_OFFERED_MODEL = "not_offered"


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


def _check_filters(filters: Sequence[Filter]) -> None:
    for col, op, _ in filters:
        if op not in _OPS or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", col):
            raise ValueError(f"bad filter {col!r} {op!r}")


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

        _check_filters(filters)
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


_ARROW_TYPES = {
    "STRING": pa.string(),
    "CHAR": pa.string(),
    "BYTE": pa.int8(),
    "SHORT": pa.int16(),
    "INT": pa.int32(),
    "LONG": pa.int64(),
    "FLOAT": pa.float32(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us", tz="UTC"),
    "TIMESTAMP_NTZ": pa.timestamp("us"),
}
_SQL_TYPES = {
    pa.string(): "STRING",
    pa.large_string(): "STRING",
    pa.bool_(): "BOOLEAN",
    pa.int8(): "TINYINT",
    pa.int16(): "SMALLINT",
    pa.int32(): "INT",
    pa.int64(): "BIGINT",
    pa.float32(): "FLOAT",
    pa.float64(): "DOUBLE",
    pa.date32(): "DATE",
}
_INTEGER_SQL_TYPES = {"TINYINT", "SMALLINT", "INT", "BIGINT"}
_RUNNING = {"PENDING", "RUNNING"}


def build_select(
    identifier: str, columns: Sequence[str] | None, filters: Sequence[Filter]
) -> tuple[str, list[dict]]:
    """A parameterised SELECT for the SQL warehouse (values never spliced into the text)."""
    _check_filters(filters)
    cols = ", ".join(f"`{c}`" for c in columns) if columns else "*"
    where, params = [], []
    for i, (col, op, value) in enumerate(filters):
        if op == "in":
            names = []
            for j, v in enumerate(value):
                params.append(_param(f"p{i}_{j}", v))
                names.append(f":p{i}_{j}")
            where.append(f"`{col}` IN ({', '.join(names) or 'NULL'})")
        else:
            params.append(_param(f"p{i}", value))
            where.append(f"`{col}` {op} :p{i}")
    sql = f"SELECT {cols} FROM {identifier}" + (" WHERE " + " AND ".join(where) if where else "")
    return sql, params


def _param(name: str, value: Any, sql_type: str | None = None) -> dict:
    """A statement parameter: the value as the text the warehouse casts to `sql_type` (inferred if None)."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return {"name": name, **({"type": sql_type} if sql_type else {})}  # no value: NULL
    if isinstance(value, bool | np.bool_):
        text, inferred = ("true" if value else "false"), "BOOLEAN"
    elif isinstance(value, Integral):
        text, inferred = str(int(value)), "BIGINT"
    elif isinstance(value, Real):  # an integer column with nulls arrives from pandas as floats: 12.0 -> "12"
        whole = sql_type in _INTEGER_SQL_TYPES and float(value).is_integer()
        text, inferred = (str(int(value)) if whole else repr(float(value))), "DOUBLE"
    elif isinstance(value, datetime):
        text, inferred = value.isoformat(), "TIMESTAMP"
    elif isinstance(value, date):
        text, inferred = value.isoformat(), "DATE"
    else:
        text, inferred = str(value), "STRING"
    return {"name": name, "value": text, "type": sql_type or inferred}


def _arrow_type(column: ColumnInfo) -> pa.DataType:
    """The Arrow type delta-rs would give a column the warehouse describes (unknown types stay text)."""
    text = (column.type_text or "STRING").upper()
    name = column.type_name.value if column.type_name else text.split("(")[0].split("<")[0]
    if name == "DECIMAL":  # precision and scale from the manifest, else from type_text "DECIMAL(p,s)"
        digits = [int(d) for d in re.findall(r"\d+", text)] + [38, 0]
        return pa.decimal128(
            column.type_precision if column.type_precision is not None else digits[0],
            column.type_scale if column.type_scale is not None else digits[1],
        )
    return _ARROW_TYPES.get("TIMESTAMP_NTZ" if text == "TIMESTAMP_NTZ" else name, pa.string())


def _sql_type(t: pa.DataType) -> str:
    if pa.types.is_timestamp(t):
        return "TIMESTAMP" if t.tz else "TIMESTAMP_NTZ"
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision},{t.scale})"
    return _SQL_TYPES.get(t, "STRING")


class DatabricksSqlReader:
    """A Databricks SQL warehouse through databricks-sdk's statement execution API (Unity Catalog names).

    Statements run with INLINE JSON_ARRAY results: a slow one is polled until `timeout_seconds` (then cancelled),
    every result chunk is fetched, and the strings are typed through Arrow so the frames have the dtypes
    LocalDeltaReader gives for the same table. Values always travel as typed parameters, never in the text.
    """

    def __init__(
        self,
        catalog: str,
        schemas: dict[str, str],
        warehouse_id: str,
        client: WorkspaceClient | None = None,
        *,
        timeout_seconds: float = 120.0,
        wait_timeout: str = "10s",
        insert_batch_rows: int = 100,
    ) -> None:
        if client is None:
            from databricks.sdk import WorkspaceClient

            client = WorkspaceClient()
        self.catalog, self.schemas, self.warehouse_id = catalog, schemas, warehouse_id
        self.client = client
        self.timeout_seconds, self.wait_timeout, self.insert_batch_rows = (
            timeout_seconds,
            wait_timeout,
            insert_batch_rows,
        )
        self._columns: dict[tuple[str, str], tuple[int, list[str]]] = {}

    def _ident(self, layer: str, name: str) -> str:
        return f"`{self.catalog}`.`{self.schemas.get(layer, layer)}`.`{name}`"

    def _run(self, sql: str, params: Sequence[dict] = ()) -> pd.DataFrame:
        from databricks.sdk.service.sql import (
            Disposition,
            ExecuteStatementRequestOnWaitTimeout,
            Format,
            StatementParameterListItem,
        )

        started = time.monotonic()
        resp = self.client.statement_execution.execute_statement(
            statement=sql,
            warehouse_id=self.warehouse_id,
            wait_timeout=self.wait_timeout,
            on_wait_timeout=ExecuteStatementRequestOnWaitTimeout.CONTINUE,
            disposition=Disposition.INLINE,
            format=Format.JSON_ARRAY,
            parameters=[StatementParameterListItem(**p) for p in params],
        )
        frame = self._frame(self._finished(resp, sql), sql)
        log.debug("statement %s: %d rows in %.2fs", resp.statement_id, len(frame), time.monotonic() - started)
        return frame

    def _frame(self, resp: StatementResponse, sql: str) -> pd.DataFrame:
        """The result as pandas, typed through Arrow as delta-rs types the same table locally."""
        manifest = resp.manifest
        if manifest is None or manifest.schema is None:  # a statement without a result set
            return pd.DataFrame()
        if manifest.truncated:
            raise RuntimeError(
                f"statement {resp.statement_id}: the warehouse truncated the result ({sql[:200]})"
            )
        rows = list(self._rows(resp))
        if manifest.total_row_count is not None and manifest.total_row_count != len(rows):
            raise RuntimeError(
                f"statement {resp.statement_id}: fetched {len(rows)} of {manifest.total_row_count} "
                f"rows ({sql[:200]})"
            )
        columns = manifest.schema.columns or []
        arrays = [
            pa.array([r[i] for r in rows], pa.string()).cast(_arrow_type(c)) for i, c in enumerate(columns)
        ]
        return pa.Table.from_arrays(arrays, names=[c.name for c in columns]).to_pandas()

    def _finished(self, resp: StatementResponse, sql: str) -> StatementResponse:
        """Poll until the statement is done; cancel it after `timeout_seconds`. Raises unless it SUCCEEDED."""
        api = self.client.statement_execution
        deadline, pause = time.monotonic() + self.timeout_seconds, 0.05
        while (state := resp.status.state.value if resp.status and resp.status.state else None) in _RUNNING:
            if time.monotonic() >= deadline:
                try:
                    api.cancel_execution(resp.statement_id)
                except Exception:  # the timeout is the error to report; a failed cancel is only logged
                    log.warning("could not cancel statement %s", resp.statement_id, exc_info=True)
                raise TimeoutError(
                    f"statement {resp.statement_id} still {state} after {self.timeout_seconds:g}s "
                    f"on warehouse {self.warehouse_id}; cancelled ({sql[:200]})"
                )
            time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause = min(pause * 2, 2.0)
            resp = api.get_statement(resp.statement_id)
        if state != "SUCCEEDED":
            err = resp.status.error if resp.status else None
            code = err.error_code.value if err and err.error_code else "no error code"
            raise RuntimeError(
                f"statement {resp.statement_id} {state} on warehouse {self.warehouse_id}: "
                f"{code}: {err.message if err else 'no message'} ({sql[:200]})"
            )
        return resp

    def _rows(self, resp: StatementResponse) -> Iterator[list[str | None]]:
        """Every row of a finished statement, following next_chunk_index from the first chunk."""
        chunk = resp.result
        if chunk is None and resp.manifest and resp.manifest.total_chunk_count:
            chunk = self.client.statement_execution.get_statement_result_chunk_n(resp.statement_id, 0)
        while chunk is not None:
            yield from chunk.data_array or []
            if chunk.next_chunk_index is None:
                return
            chunk = self.client.statement_execution.get_statement_result_chunk_n(
                resp.statement_id, chunk.next_chunk_index
            )

    def version(self, layer: str, name: str) -> int | None:
        try:
            hist = self._run(f"DESCRIBE HISTORY {self._ident(layer, name)} LIMIT 1")
        except RuntimeError as exc:
            if "TABLE_OR_VIEW_NOT_FOUND" in str(exc):
                return None
            raise
        return int(hist["version"].iloc[0]) if len(hist) else None

    def _table_columns(self, layer: str, name: str, version: int) -> list[str]:
        """The columns of one version of a table (the latest version asked for is remembered per table)."""
        seen = self._columns.get((layer, name))
        if seen is None or seen[0] != version:
            sql = f"SELECT * FROM {self._ident(layer, name)} VERSION AS OF {int(version)} LIMIT 0"
            seen = self._columns[(layer, name)] = (version, list(self._run(sql).columns))
        return seen[1]

    def read(
        self,
        layer: str,
        name: str,
        version: int,
        columns: Sequence[str] | None = None,
        filters: Sequence[Filter] = (),
    ) -> pd.DataFrame:
        """Like LocalDeltaReader.read: requested columns the table lacks are left out, not an error."""
        if columns:
            present = set(self._table_columns(layer, name, version))
            columns = [c for c in columns if c in present]
        sql, params = build_select(
            f"{self._ident(layer, name)} VERSION AS OF {int(version)}", columns, filters
        )
        return self._run(sql, params)

    def count(self, layer: str, name: str, version: int) -> int:
        df = self._run(f"SELECT COUNT(*) AS n FROM {self._ident(layer, name)} VERSION AS OF {int(version)}")
        return int(df["n"].iloc[0])

    def append(self, layer: str, name: str, rows: pd.DataFrame, schema: pa.Schema) -> None:
        """INSERT the rows as typed parameters, `insert_batch_rows` per statement; a missing table is created
        first (as delta-rs does locally). Batches are separate commits."""
        ident, cols = self._ident(layer, name), ", ".join(f"`{c}`" for c in schema.names)
        types, rows = [_sql_type(f.type) for f in schema], rows[schema.names]
        for start in range(0, len(rows), self.insert_batch_rows):
            batch = rows.iloc[start : start + self.insert_batch_rows]
            params = [
                _param(f"v{i}_{j}", v, types[j])
                for i, row in enumerate(batch.itertuples(index=False, name=None))
                for j, v in enumerate(row)
            ]
            values = ", ".join(
                "(" + ", ".join(":" + p["name"] for p in params[i : i + len(types)]) + ")"
                for i in range(0, len(params), len(types))
            )
            sql = f"INSERT INTO {ident} ({cols}) VALUES {values}"
            try:
                self._run(sql, params)
            except RuntimeError as exc:
                if "TABLE_OR_VIEW_NOT_FOUND" not in str(exc):
                    raise
                log.info("creating %s for the first append", ident)
                columns = ", ".join(f"`{c}` {t}" for c, t in zip(schema.names, types, strict=True))
                self._run(f"CREATE TABLE IF NOT EXISTS {ident} ({columns}) USING DELTA")
                self._run(sql, params)


@dataclass
class ForecastSnapshot:
    """The latest forecast run (one as_of date), split per store for constant-time lookups."""

    as_of: date
    by_store: dict[str, pd.DataFrame]
    roles: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def store_ids(self) -> list[str]:
        return sorted(self.by_store)


def _dates(df: pd.DataFrame, *cols: str) -> pd.DataFrame:
    for c in cols:
        if c in df.columns:
            df[c] = pd.to_datetime(df[c])
    return df


class ServingData:
    """The app's queries. Thread-safe; each result cached under the versions of the tables it read."""

    def __init__(
        self,
        reader: TableReader,
        *,
        version_check_seconds: float = 2.0,
        cache_entries: int = 512,
        history_days: int = 56,
    ) -> None:
        self.reader = reader
        self.ttl = version_check_seconds
        self.max_entries = cache_entries
        self.history_days = history_days
        self._versions: dict[tuple[str, str], tuple[float, int | None]] = {}
        self._cache: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[tuple, threading.Lock] = {}
        self.warmed = False  # set once the first page's data is loaded (reported by /api/v1/health)

    # ---- versions and cache --------------------------------------------------------------------
    def version(self, table: tuple[str, str]) -> int | None:
        now = time.monotonic()
        seen = self._versions.get(table)
        if seen is not None and now - seen[0] < self.ttl:
            return seen[1]
        current = self.reader.version(*table)
        self._versions[table] = (now, current)
        if seen is not None and seen[1] != current:
            self._drop(table)
        return current

    def _drop(self, table: tuple[str, str]) -> None:
        with self._lock:
            for key in [k for k in self._cache if table in k[1]]:
                del self._cache[key]
        log.info("new version of %s.%s: cache entries dropped", *table)

    def cached(self, key: tuple, tables: Sequence[tuple[str, str]], load: Callable[[dict], Any]) -> Any:
        """`load(versions)` computed once per version of `tables` (concurrent callers wait for one load)."""
        versions = {t: self.version(t) for t in tables}
        full = (key, tuple(tables), tuple(versions.values()))
        with self._lock:
            if full in self._cache:
                self._cache.move_to_end(full)
                return self._cache[full]
            key_lock = self._key_locks.setdefault(full, threading.Lock())
        with key_lock:
            with self._lock:
                if full in self._cache:
                    return self._cache[full]
            try:
                value = load(versions)
            finally:
                with self._lock:
                    self._key_locks.pop(full, None)
            with self._lock:
                self._cache[full] = value
                while len(self._cache) > self.max_entries:
                    self._cache.popitem(last=False)
        return value

    def _read(
        self,
        table: tuple[str, str],
        versions: dict,
        columns: Sequence[str] | None = None,
        filters: Sequence[Filter] = (),
    ) -> pd.DataFrame:
        v = versions.get(table)
        if v is None:
            return pd.DataFrame(columns=list(columns or []))
        return self.reader.read(*table, version=v, columns=columns, filters=filters)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
        self._versions.clear()

    def warm(self) -> None:
        """Load what the first page needs, so the first visitor does not wait for it."""
        try:
            self.forecast_snapshot()
            self.recent_sales()
            self.stores()
            self.products()
        except Exception:  # a broken table must not stop the server from starting
            log.exception("warming the serving cache failed")

    # ---- reference data ------------------------------------------------------------------------
    def stores(self) -> pd.DataFrame:
        """store_id, name, city, country, timezone, ...: from silver.stores, else ids seen in sales/forecasts."""

        def load(v: dict) -> pd.DataFrame:
            df = self._read(STORES, v)
            if df.empty:
                ids = set(self._read(DAILY_SALES, v, ["store_id"])["store_id"].dropna().unique())
                snap = self.forecast_snapshot()
                ids |= set(snap.store_ids) if snap else set()
                df = pd.DataFrame({"store_id": sorted(ids)})
                df["name"] = df["store_id"]
            keep = [
                c
                for c in ("store_id", "name", "city", "country", "subdivision", "timezone", "store_type")
                if c in df.columns
            ]
            return df[keep].drop_duplicates("store_id").sort_values("store_id").reset_index(drop=True)

        return self.cached(("stores",), (STORES, DAILY_SALES, FORECASTS), load)

    def products(self) -> pd.DataFrame:
        def load(v: dict) -> pd.DataFrame:
            df = self._read(PRODUCTS, v)
            if df.empty:
                ids = sorted(set(self._read(DAILY_SALES, v, ["product_id"])["product_id"].dropna().unique()))
                df = pd.DataFrame({"product_id": ids, "name": ids, "category": ""})
            keep = [c for c in ("product_id", "name", "category", "unit_price") if c in df.columns]
            return df[keep].drop_duplicates("product_id").sort_values("product_id").reset_index(drop=True)

        return self.cached(("products",), (PRODUCTS, DAILY_SALES), load)

    def product_names(self) -> dict[str, str]:
        p = self.products()
        return dict(zip(p["product_id"], p["name"].fillna(p["product_id"]), strict=True)) if len(p) else {}

    # ---- forecasts -----------------------------------------------------------------------------
    def forecast_snapshot(self) -> ForecastSnapshot | None:
        """The latest as_of's forecasts of every model role, or None when no forecast exists yet."""

        def load(v: dict) -> ForecastSnapshot | None:
            if v[FORECASTS] is None:
                return None
            as_of_col = self._read(FORECASTS, v, ["as_of"])["as_of"]
            if as_of_col.empty:
                return None
            as_of = pd.Timestamp(as_of_col.max()).date()
            df = self._read(FORECASTS, v, FORECASTS.columns, [("as_of", "=", as_of)])
            df = _dates(df, "date", "as_of").sort_values(["store_id", "product_id", "role", "date"])
            roles = (
                df.groupby(["role", "model", "model_version"], dropna=False)
                .size()
                .rename("rows")
                .reset_index()
            )
            by_store = {s: g.reset_index(drop=True) for s, g in df.groupby("store_id", sort=True)}
            return ForecastSnapshot(as_of, by_store, roles)

        return self.cached(("forecast_snapshot",), (FORECASTS,), load)

    def forecasts(
        self,
        store_ids: Sequence[str],
        product_id: str | None = None,
        horizon: int | None = None,
        target_date: date | None = None,
        role: str | None = "champion",
    ) -> pd.DataFrame:
        """Latest forecasts for the given stores (already authorized by the caller)."""
        snap = self.forecast_snapshot()
        if snap is None:
            return pd.DataFrame(columns=FORECASTS.columns)
        parts = [snap.by_store[s] for s in store_ids if s in snap.by_store]
        if not parts:
            return pd.DataFrame(columns=FORECASTS.columns)
        df = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
        mask = pd.Series(True, index=df.index)
        if role:
            mask &= df["role"] == role
        if product_id:
            mask &= df["product_id"] == product_id
        if horizon is not None:
            mask &= df["horizon"] == horizon
        if target_date is not None:
            mask &= df["date"] == pd.Timestamp(target_date)
        return df[mask]

    def past_forecasts(
        self, store_id: str, product_id: str, start: date, end: date, horizons: Sequence[int] = (1, 7, 28)
    ) -> pd.DataFrame:
        """Champion forecasts made earlier for days in [start, end]: what was predicted h days ahead."""

        def load(v: dict) -> pd.DataFrame:
            df = self._read(
                FORECASTS,
                v,
                ["as_of", "date", "horizon", "yhat", "yhat_lower", "yhat_upper", "model_version"],
                [
                    ("store_id", "=", store_id),
                    ("product_id", "=", product_id),
                    ("role", "=", "champion"),
                    ("date", ">=", start),
                    ("date", "<=", end),
                    ("horizon", "in", list(horizons)),
                ],
            )
            return _dates(df, "date", "as_of").sort_values(["horizon", "date"]).reset_index(drop=True)

        return self.cached(("past", store_id, product_id, start, end, tuple(horizons)), (FORECASTS,), load)

    # ---- sales ---------------------------------------------------------------------------------
    def latest_sales_date(self) -> date | None:
        def load(v: dict) -> date | None:
            d = self._read(DAILY_SALES, v, ["date"])["date"]
            return pd.Timestamp(d.max()).date() if len(d) else None

        return self.cached(("latest_sales_date",), (DAILY_SALES,), load)

    def recent_sales(self) -> dict[str, pd.DataFrame]:
        """The last `history_days` days of gold.daily_sales for every store, split per store."""

        def load(v: dict) -> dict[str, pd.DataFrame]:
            last = self.latest_sales_date()
            if last is None:
                return {}
            df = self._read(
                DAILY_SALES,
                v,
                ["store_id", "product_id", "date", "quantity_sold", "status", "stockout"],
                [("date", ">", last - timedelta(days=self.history_days))],
            )
            df = _dates(df, "date").sort_values(["store_id", "product_id", "date"])
            return {s: g.reset_index(drop=True) for s, g in df.groupby("store_id", sort=True)}

        return self.cached(("recent_sales",), (DAILY_SALES,), load)

    def sales(
        self,
        store_ids: Sequence[str] | None,
        start: date | None = None,
        end: date | None = None,
        product_id: str | None = None,
    ) -> pd.DataFrame:
        """Actuals from gold.daily_sales (store_ids None: every store; the caller has authorized them)."""
        filters: list[Filter] = []
        if store_ids is not None:
            filters.append(("store_id", "in", sorted(store_ids)))
        if product_id:
            filters.append(("product_id", "=", product_id))
        if start:
            filters.append(("date", ">=", start))
        if end:
            filters.append(("date", "<=", end))
        cols = [
            "store_id",
            "product_id",
            "date",
            "quantity_sold",
            "revenue",
            "status",
            "stockout",
            "promo",
            "source",
        ]

        def load(v: dict) -> pd.DataFrame:
            df = self._read(DAILY_SALES, v, cols, filters)
            return _dates(df, "date").sort_values(["store_id", "product_id", "date"]).reset_index(drop=True)

        key = ("sales", tuple(sorted(store_ids)) if store_ids is not None else None, start, end, product_id)
        return self.cached(key, (DAILY_SALES,), load)

    def chain_daily(self, start: date, end: date) -> pd.DataFrame:
        """Chain totals per day (analysts): date, quantity_sold, revenue."""

        def load(v: dict) -> pd.DataFrame:
            df = self._read(
                DAILY_SALES,
                v,
                ["date", "quantity_sold", "revenue"],
                [("date", ">=", start), ("date", "<=", end)],
            )
            df = _dates(df, "date")
            return df.groupby("date", as_index=False)[["quantity_sold", "revenue"]].sum(min_count=1)

        return self.cached(("chain_daily", start, end), (DAILY_SALES,), load)

    # ---- metrics, inventory, operations --------------------------------------------------------
    def metrics(self) -> pd.DataFrame:
        """The latest evaluation of every model: model, horizon, store_id (None = global), metrics, n."""

        def load(v: dict) -> pd.DataFrame:
            df = self._read(BACKTEST_METRICS, v)
            if df.empty:
                return df
            latest = df.groupby("model")["evaluated_at"].transform("max")
            return df[df["evaluated_at"] == latest].reset_index(drop=True)

        return self.cached(("metrics",), (BACKTEST_METRICS,), load)

    def inventory(self, store_ids: Sequence[str], days: int) -> pd.DataFrame:
        """The last `days` days of silver.inventory_daily for the given stores."""

        def load(v: dict) -> pd.DataFrame:
            d = self._read(INVENTORY_DAILY, v, ["date"])["date"]
            if d.empty:
                return pd.DataFrame()
            since = pd.Timestamp(d.max()).date() - timedelta(days=days - 1)
            df = self._read(
                INVENTORY_DAILY, v, None, [("store_id", "in", sorted(store_ids)), ("date", ">=", since)]
            )
            return _dates(df, "date")

        return self.cached(("inventory", tuple(sorted(store_ids)), days), (INVENTORY_DAILY,), load)

    def events(self, store_ids: Sequence[str] | None) -> pd.DataFrame:
        """Loaded events: national ones plus those scoped to the given stores (None: all)."""

        def load(v: dict) -> pd.DataFrame:
            df = self._read(
                EVENTS, v, ["event_date_start", "event_date_end", "event_name", "event_type", "scope"]
            )
            if store_ids is not None and len(df):
                df = df[df["scope"].isin(["national", *store_ids])]
            return (
                df.sort_values("event_date_start", ascending=False).reset_index(drop=True) if len(df) else df
            )

        return self.cached(
            ("events", tuple(sorted(store_ids)) if store_ids is not None else None), (EVENTS,), load
        )

    def runs(self, limit: int = 200) -> pd.DataFrame:
        def load(v: dict) -> pd.DataFrame:
            df = self._read(RUNS, v, ["run_id", "job", "started", "finished", "status", "seconds", "message"])
            return (
                df.sort_values("started", ascending=False).head(limit).reset_index(drop=True)
                if len(df)
                else df
            )

        return self.cached(("runs", limit), (RUNS,), load)

    def quarantine_counts(self) -> pd.DataFrame:
        """Quarantined rows per source and rule."""

        def load(v: dict) -> pd.DataFrame:
            df = self._read(QUARANTINE, v, ["source", "rule", "quarantined_at"])
            if df.empty:
                return pd.DataFrame(columns=["source", "rule", "rows", "last"])
            return (
                df.groupby(["source", "rule"])
                .agg(rows=("rule", "size"), last=("quarantined_at", "max"))
                .reset_index()
                .sort_values("rows", ascending=False)
            )

        return self.cached(("quarantine_counts",), (QUARANTINE,), load)

    def dq_failures(self, limit: int = 100) -> pd.DataFrame:
        def load(v: dict) -> pd.DataFrame:
            df = self._read(
                DQ_RESULTS,
                v,
                ["checked_at", "source", "expectation", "column", "severity", "success", "observed"],
                [("success", "=", False)],
            )
            return df.sort_values("checked_at", ascending=False).head(limit) if len(df) else df

        return self.cached(("dq_failures", limit), (DQ_RESULTS,), load)

    def row_count(self, table: tuple[str, str]) -> int:
        """Rows in a table (0 if it does not exist), from the Delta log's file statistics where possible."""
        return self.cached(
            ("row_count", table),
            (table,),
            lambda v: 0 if v[table] is None else self.reader.count(*table, version=v[table]),
        )

    def append(self, table: tuple[str, str], rows: pd.DataFrame, schema: pa.Schema) -> None:
        self.reader.append(*table, rows[schema.names], schema)

    def table_versions(self, tables: Sequence[tuple[str, str]]) -> dict[str, int | None]:
        return {"{}.{}".format(*t): self.version(t) for t in tables}

    def freshness(self) -> dict[str, Any]:
        snap = self.forecast_snapshot()
        last = self.latest_sales_date()
        return {
            "latest_sales_date": last.isoformat() if last else None,
            "latest_forecast_as_of": snap.as_of.isoformat() if snap else None,
            "forecast_stores": len(snap.by_store) if snap else 0,
        }


def parse_components(text: Any) -> dict[str, float]:
    """A forecast's components JSON as {name: contribution}; malformed or missing -> {}."""
    if not isinstance(text, str) or not text:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {}
    out: dict[str, float] = {}
    if isinstance(data, dict):
        for k, v in data.items():
            try:
                out[str(k)] = float(v)
            except (TypeError, ValueError):
                continue
    return out


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
        reader = LocalDeltaReader(settings.tables_dir)
    else:
        raise ValueError(f"serving.backend {backend!r}: expected local or databricks")
    return ServingData(
        reader,
        version_check_seconds=float(conf.get("serving.version_check_seconds", 2)),
        cache_entries=int(conf.get("serving.cache_entries", 512)),
        history_days=int(conf.get("serving.history_days", 56)),
    )
