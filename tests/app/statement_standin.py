"""A local stand-in for the Databricks SQL Statement Execution API 2.0, backed by the test session's Spark SQL.

It speaks the HTTP protocol databricks-sdk uses (execute, get status, fetch result chunk n, cancel) on 127.0.0.1,
checks the bearer token and the warehouse id, and answers as the service does: a status with a state and an
error, a manifest with Databricks type names, and INLINE JSON_ARRAY chunks whose values are strings or null.
Statements run on real Spark SQL with Delta: `catalog`.`schema`.`table` names map to the Delta tables under
<tables_dir>/<layer>/<table>, named parameters are bound by Spark (typed ones as CAST(:name AS type)), and a
Spark error becomes a FAILED status whose message starts with the error class. Two knobs exercise a client's
slow paths: `pending_polls` (status requests answered PENDING/RUNNING before the result shows) and `chunk_rows`.
A statement runs when it is submitted; `pending_polls` only delays its answer, and a cancel only changes its state.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

PREFIX = "/api/2.0/sql/statements"
_ROUTES = [
    ("POST", re.compile(rf"^{PREFIX}/?$"), "_execute"),
    ("GET", re.compile(rf"^{PREFIX}/([\w-]+)$"), "_get"),
    ("GET", re.compile(rf"^{PREFIX}/([\w-]+)/result/chunks/(\d+)$"), "_chunk"),
    ("POST", re.compile(rf"^{PREFIX}/([\w-]+)/cancel$"), "_cancel"),
]
_UC_NAME = re.compile(r"`([^`]+)`\.`([^`]+)`\.`([^`]+)`")
_PARAM_TYPE = re.compile(
    r"^(STRING|BOOLEAN|TINYINT|SMALLINT|INT|INTEGER|BIGINT|FLOAT|DOUBLE|DATE|TIMESTAMP|"
    r"TIMESTAMP_NTZ|DECIMAL(\(\d+,\s*\d+\))?)$",
    re.IGNORECASE,
)
_TYPE_NAMES = [
    (T.StringType, "STRING"),
    (T.VarcharType, "STRING"),
    (T.CharType, "CHAR"),
    (T.ByteType, "BYTE"),
    (T.ShortType, "SHORT"),
    (T.IntegerType, "INT"),
    (T.LongType, "LONG"),
    (T.FloatType, "FLOAT"),
    (T.DoubleType, "DOUBLE"),
    (T.DecimalType, "DECIMAL"),
    (T.BooleanType, "BOOLEAN"),
    (T.DateType, "DATE"),
    (T.TimestampNTZType, "TIMESTAMP_NTZ"),
    (T.TimestampType, "TIMESTAMP"),
    (T.BinaryType, "BINARY"),
    (T.ArrayType, "ARRAY"),
    (T.MapType, "MAP"),
    (T.StructType, "STRUCT"),
    (T.NullType, "NULL"),
    (T.DayTimeIntervalType, "INTERVAL"),
    (T.YearMonthIntervalType, "INTERVAL"),
]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ApiError(Exception):
    """An HTTP error answer in the service's shape: {"error_code": ..., "message": ...}."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Statement:
    """One submitted statement: its state, its rendered result, and how many polls it still stays running."""

    id: str
    sql: str
    state: str = "PENDING"
    polls_left: int = 0
    error: dict[str, str] | None = None
    columns: list[dict[str, Any]] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)
    truncated: bool = False


class StatementStandIn:
    """The stand-in server. Use as a context manager; `host` and `token` are what a WorkspaceClient needs."""

    def __init__(
        self,
        spark: SparkSession,
        tables_dir: Path,
        *,
        catalog: str = "bakery",
        schemas: dict[str, str] | None = None,
        token: str = "standin-token",
        warehouse_id: str = "standin-warehouse",
        pending_polls: int = 0,
        chunk_rows: int = 10_000,
    ) -> None:
        self.spark, self.tables_dir = spark, Path(tables_dir)
        self.catalog, self.token, self.warehouse_id = catalog, token, warehouse_id
        self.layers = {schema: layer for layer, schema in (schemas or {}).items()} or {
            s: s for s in ("bronze", "silver", "gold", "ops")
        }
        self.pending_polls, self.chunk_rows = pending_polls, chunk_rows
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, in order
        self.statements: dict[str, Statement] = {}
        self.spark_sql: list[tuple[str, dict[str, Any]]] = []  # what Spark ran: (SQL text, parameter values)
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def host(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_port}"

    def __enter__(self) -> StatementStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # ---- HTTP ------------------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _route(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                with standin._lock:
                    standin.requests.append((self.command, self.path))
                try:
                    if self.headers.get("Authorization") != f"Bearer {standin.token}":
                        raise ApiError(401, "UNAUTHENTICATED", "Invalid access token.")
                    for method, pattern, action in _ROUTES:
                        if method == self.command and (m := pattern.match(self.path.split("?")[0])):
                            return self._answer(200, getattr(standin, action)(_body(raw), *m.groups()))
                    raise ApiError(
                        404, "ENDPOINT_NOT_FOUND", f"No API found for '{self.command} {self.path}'"
                    )
                except ApiError as e:
                    self._answer(e.status, {"error_code": e.code, "message": e.message})
                except Exception as e:  # a stand-in bug: say so rather than drop the connection
                    self._answer(500, {"error_code": "INTERNAL_ERROR", "message": f"stand-in: {e!r}"})

            do_GET = do_POST = _route

        return Handler

    # ---- the API ---------------------------------------------------------------------------------
    def _execute(self, body: dict) -> dict:
        if not body.get("statement") or not body.get("warehouse_id"):
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "statement and warehouse_id are required")
        if body["warehouse_id"] != self.warehouse_id:
            raise ApiError(
                404, "RESOURCE_DOES_NOT_EXIST", f"Warehouse {body['warehouse_id']} does not exist."
            )
        if body.get("disposition", "INLINE") != "INLINE" or body.get("format", "JSON_ARRAY") != "JSON_ARRAY":
            raise ApiError(
                400, "INVALID_PARAMETER_VALUE", "the stand-in serves INLINE JSON_ARRAY results only"
            )
        wait = body.get("wait_timeout", "10s")
        if not re.fullmatch(r"\d+s", wait) or int(wait[:-1]) not in (0, *range(5, 51)):
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"wait_timeout {wait!r}: expected 0s or 5s to 50s")
        st = Statement(id=str(uuid.uuid4()), sql=body["statement"], polls_left=self.pending_polls)
        self._run(st, body.get("parameters") or [], body.get("row_limit"))
        with self._lock:
            self.statements[st.id] = st
            if st.polls_left and body.get("on_wait_timeout") == "CANCEL" and wait != "0s":
                st.state, st.polls_left = "CANCELED", 0
        return self._response(st, "PENDING" if st.polls_left else st.state)

    def _get(self, body: dict, statement_id: str) -> dict:
        st = self._statement(statement_id)
        with self._lock:
            if st.polls_left:
                st.polls_left -= 1
                return self._response(st, "RUNNING")
        return self._response(st, st.state)

    def _chunk(self, body: dict, statement_id: str, index: str) -> dict:
        st = self._statement(statement_id)
        if st.state != "SUCCEEDED" or st.polls_left:
            raise ApiError(
                400, "INVALID_STATE", f"statement {statement_id} has no result to fetch ({st.state})"
            )
        if not 0 <= int(index) < self._chunk_count(st):
            raise ApiError(404, "NOT_FOUND", f"chunk {index} of statement {statement_id} does not exist")
        return self._chunk_body(st, int(index))

    def _cancel(self, body: dict, statement_id: str) -> dict:
        st = self._statement(statement_id)
        with self._lock:
            if st.polls_left:
                st.state, st.polls_left = "CANCELED", 0
        return {}

    def _statement(self, statement_id: str) -> Statement:
        with self._lock:
            st = self.statements.get(statement_id)
        if st is None:
            raise ApiError(404, "NOT_FOUND", f"statement {statement_id} not found")
        return st

    def _response(self, st: Statement, state: str) -> dict:
        out: dict[str, Any] = {"statement_id": st.id, "status": {"state": state}}
        if state == "FAILED":
            out["status"]["error"] = st.error
        if state == "SUCCEEDED":
            count = self._chunk_count(st)
            out["manifest"] = {
                "format": "JSON_ARRAY",
                "schema": {"column_count": len(st.columns), "columns": st.columns},
                "total_chunk_count": count,
                "total_row_count": len(st.rows),
                "truncated": st.truncated,
                "chunks": [
                    {
                        "chunk_index": i,
                        "row_offset": i * self.chunk_rows,
                        "row_count": min(self.chunk_rows, len(st.rows) - i * self.chunk_rows),
                    }
                    for i in range(count)
                ],
            }
            if count:
                out["result"] = self._chunk_body(st, 0)
        return out

    def _chunk_count(self, st: Statement) -> int:
        return -(-len(st.rows) // self.chunk_rows)

    def _chunk_body(self, st: Statement, index: int) -> dict:
        offset = index * self.chunk_rows
        data = st.rows[offset : offset + self.chunk_rows]
        out = {"chunk_index": index, "row_offset": offset, "row_count": len(data), "data_array": data}
        if index + 1 < self._chunk_count(st):
            out |= {
                "next_chunk_index": index + 1,
                "next_chunk_internal_link": f"{PREFIX}/{st.id}/result/chunks/{index + 1}",
            }
        return out

    # ---- Spark -----------------------------------------------------------------------------------
    def _run(self, st: Statement, parameters: list[dict], row_limit: int | None) -> None:
        """Run the statement on Spark and keep its rendered result, or FAILED with Spark's error."""
        sql, args = st.sql, {}
        for p in parameters:
            name, kind = p["name"], p.get("type")
            args[name] = p.get("value")
            if kind:
                if not _PARAM_TYPE.match(kind):
                    raise ApiError(400, "INVALID_PARAMETER_VALUE", f"parameter {name}: unknown type {kind!r}")
                sql = re.sub(rf"(?<![:\w]):{re.escape(name)}(?!\w)", f"CAST(:{name} AS {kind})", sql)
        sql = _UC_NAME.sub(lambda m: self._local_name(m, st.sql), sql)
        with self._lock:
            self.spark_sql.append((sql, args))
        from pyspark.errors import PySparkException

        try:
            df = self.spark.sql(sql, args=args or None)
            if row_limit is not None:
                st.truncated = df.limit(row_limit + 1).count() > row_limit
                df = df.limit(row_limit)
            st.columns = [_column(i, f) for i, f in enumerate(df.schema.fields)]
            st.rows = _render(df)
            st.state = "SUCCEEDED"
        except PySparkException as exc:
            st.state = "FAILED"
            st.error = {
                "error_code": "BAD_REQUEST",
                "message": str(exc).split("\n\nJVM stacktrace")[0][:4000],
            }

    def _local_name(self, m: re.Match, statement: str) -> str:
        """`catalog`.`schema`.`table` -> its local Delta path; a missing table stays a name Spark cannot find."""
        catalog, schema, table = m.groups()
        if catalog != self.catalog or schema not in self.layers:
            return m.group(0)
        path = self.tables_dir / self.layers[schema] / table
        if (path / "_delta_log").is_dir() or statement.lstrip().upper().startswith("CREATE"):
            return f"delta.`{path}`"
        return f"`{schema}`.`{table}`"


def _body(raw: bytes) -> dict:
    try:
        body = json.loads(raw or b"{}")
    except ValueError as e:
        raise ApiError(400, "MALFORMED_REQUEST", f"Could not parse request object: {e}") from e
    if not isinstance(body, dict):
        raise ApiError(400, "MALFORMED_REQUEST", "Could not parse request object: expected a JSON object")
    return body


def _type_name(t: T.DataType) -> str:
    return next((name for cls, name in _TYPE_NAMES if isinstance(t, cls)), "USER_DEFINED_TYPE")


def _column(position: int, f: T.StructField) -> dict[str, Any]:
    out = {
        "name": f.name,
        "position": position,
        "type_name": _type_name(f.dataType),
        "type_text": f.dataType.simpleString().upper(),
    }
    if isinstance(f.dataType, T.DecimalType):
        out |= {"type_precision": f.dataType.precision, "type_scale": f.dataType.scale}
    return out


def _as_text(df: DataFrame, i: int) -> Column:
    """Spark renders each value as the service's JSON_ARRAY text; timestamps as exact UTC microseconds."""
    c, t = df[i], df.schema.fields[i].dataType
    if isinstance(t, T.TimestampType):  # (TimestampNTZType is not a subclass)
        return F.unix_micros(c).cast("string")
    if isinstance(t, T.TimestampNTZType):
        return F.regexp_replace(c.cast("string"), " ", "T")
    if isinstance(t, T.ArrayType | T.MapType | T.StructType):
        return F.to_json(c)
    if isinstance(t, T.BinaryType):
        return F.base64(c)
    return c.cast("string")


def _render(df: DataFrame) -> list[list[str | None]]:
    fields = df.schema.fields
    rows = df.select([_as_text(df, i).alias(f"_{i}") for i in range(len(fields))]).collect() if fields else []
    utc = [i for i, f in enumerate(fields) if type(f.dataType) is T.TimestampType]
    out = [list(r) for r in rows]
    for r in out:
        for i in utc:
            if r[i] is not None:  # ISO 8601 in UTC, as the service renders TIMESTAMP
                r[i] = (_EPOCH + timedelta(microseconds=int(r[i]))).isoformat().replace("+00:00", "Z")
    return out
