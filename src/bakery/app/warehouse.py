"""The Databricks table store: a SQL warehouse through databricks-sdk's statement execution API."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from bakery.app.tablestore import Filter, check_filters

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.service.sql import ColumnInfo, StatementResponse

log = logging.getLogger(__name__)

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
    check_filters(filters)
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
