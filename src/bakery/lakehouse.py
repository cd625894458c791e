"""Delta table IO: tables addressed by (layer, name), mapped to paths locally or to UC names on Databricks.

Every read and write of a Delta table in the library goes through here, so the rest of the code
is DataFrame -> DataFrame transforms that never know where a table lives.
"""

from __future__ import annotations

import logging
import operator
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from bakery.config import Settings
from bakery.spark import delta_retention_check_off
from bakery.tables import LAYERS, Table

log = logging.getLogger(__name__)

_SPARK_TYPES = {
    "string": T.StringType(),
    "long": T.LongType(),
    "int": T.IntegerType(),
    "double": T.DoubleType(),
    "boolean": T.BooleanType(),
    "date": T.DateType(),
    "timestamp": T.TimestampType(),
}
_COMMIT_FILE = re.compile(r"\d{20}\.json")
_COMPARE = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def struct_type(table: Table) -> T.StructType:
    """A catalog table's schema as a Spark StructType (NOT NULL columns not nullable)."""
    return T.StructType([T.StructField(f.name, _SPARK_TYPES[f.type], f.nullable) for f in table.fields])


def open_lakehouse(settings: Settings) -> Lakehouse:
    """The Lakehouse of these settings over the Spark session they configure: how the CLI, the demo and the
    jobs start up."""
    from bakery.spark import get_spark

    return Lakehouse(get_spark(settings), settings)


@dataclass(frozen=True)
class TableInfo:
    layer: str
    name: str
    identifier: str


@dataclass(frozen=True)
class LogStats:
    """What a table's Delta log says without reading data: version, rows, column types, and the min and
    max of each column whose per-file statistics are complete (Python values; timestamps in UTC)."""

    version: int
    rows: int
    dtypes: dict[str, str]
    low: dict[str, Any]
    high: dict[str, Any]


class Lakehouse:
    """Reads and writes the medallion tables of one home (local) or one catalog (Databricks)."""

    def __init__(self, spark: SparkSession, settings: Settings) -> None:
        self.spark = spark
        self.settings = settings
        self.mode = settings.get("storage.mode", "local")
        self.catalog = settings.get("storage.catalog", "bakery")
        self.schemas: dict[str, str] = settings.get("storage.schemas", {}) or {}

    # ---- addressing -------------------------------------------------------------------------
    def _check_layer(self, layer: str) -> None:
        if layer not in LAYERS:
            raise ValueError(f"unknown layer {layer!r}; expected one of {LAYERS}")

    def path(self, layer: str, name: str) -> str:
        """Filesystem location of a local table (local mode only)."""
        self._check_layer(layer)
        return str(self.settings.tables_dir / layer / name)

    def identifier(self, layer: str, name: str) -> str:
        """A SQL identifier usable in spark.table(), MERGE and DESCRIBE HISTORY."""
        self._check_layer(layer)
        if self.mode == "local":
            return f"delta.`{self.path(layer, name)}`"
        return f"`{self.catalog}`.`{self.schemas.get(layer, layer)}`.`{name}`"

    def exists(self, layer: str, name: str) -> bool:
        if self.mode == "local":
            return (self.settings.tables_dir / layer / name / "_delta_log").is_dir()
        return bool(self.spark.catalog.tableExists(f"{self.catalog}.{self.schemas.get(layer, layer)}.{name}"))

    def list_tables(self) -> list[TableInfo]:
        out: list[TableInfo] = []
        for layer in LAYERS:
            if self.mode == "local":
                root = self.settings.tables_dir / layer
                names = (
                    sorted(p.name for p in root.iterdir() if (p / "_delta_log").is_dir())
                    if root.is_dir()
                    else []
                )
            else:
                names = self._catalog_tables(layer)
            out.extend(TableInfo(layer, n, self.identifier(layer, n)) for n in names)
        return out

    def _catalog_tables(self, layer: str) -> list[str]:
        """The tables of a layer's schema (none while the schema does not exist); SHOW TABLES also lists the
        session's temporary views, which are no tables of the layer."""
        schema = self.schemas.get(layer, layer)
        if not self.spark.catalog.databaseExists(f"{self.catalog}.{schema}"):
            return []
        shown = self.spark.sql(f"SHOW TABLES IN `{self.catalog}`.`{schema}`").collect()
        return sorted(r.tableName for r in shown if not r.isTemporary)

    # ---- reads ------------------------------------------------------------------------------
    def read(self, layer: str, name: str, version: int | None = None) -> DataFrame:
        if not self.exists(layer, name):
            raise LookupError(f"table {layer}.{name} does not exist yet; run `bakery ingest` first")
        if version is None:
            return self.spark.table(self.identifier(layer, name))
        if self.mode == "local":
            return self.spark.read.format("delta").option("versionAsOf", version).load(self.path(layer, name))
        return self.spark.sql(f"SELECT * FROM {self.identifier(layer, name)} VERSION AS OF {int(version)}")

    def read_arrow(
        self,
        layer: str,
        name: str,
        columns: Sequence[str] | None = None,
        filters: Sequence[tuple[str, str, Any]] = (),
    ) -> pa.Table:
        """Some columns and rows of a table as Arrow, for small reads (status, reports) that should not
        pay for a Spark job: delta-rs reads local tables directly; on Databricks Spark reads them.
        filters: (column, op, value) with op one of = != < <= > >=, all of which must hold."""
        if not self.exists(layer, name):
            raise LookupError(f"table {layer}.{name} does not exist yet; run `bakery ingest` first")
        if self.mode == "local":
            from deltalake import DeltaTable as DeltaLog

            return DeltaLog(self.path(layer, name)).to_pyarrow_table(
                columns=list(columns) if columns else None, filters=list(filters) or None
            )
        df = self.read(layer, name)
        for column, op, value in filters:
            df = df.filter(_COMPARE[op](F.col(column), F.lit(value)))
        return (df.select(*columns) if columns else df).toArrow()

    def distinct_values(self, layer: str, name: str, column: str) -> list[Any]:
        """The distinct values of one column, in no particular order. Locally delta-rs reads just that
        column (no Spark job, which costs more than the read for the small tables of a nightly run)."""
        if self.mode == "local":
            import pyarrow.compute as pc

            seen: set[Any] = set()
            for batch in self.arrow_batches(layer, name, [column]):
                seen.update(pc.unique(batch.column(0)).to_pylist())
            return list(seen)
        return [r[0] for r in self.read(layer, name).select(column).distinct().collect()]

    def arrow_batches(self, layer: str, name: str, columns: Sequence[str]) -> Iterator[pa.RecordBatch]:
        """Some columns as a stream of Arrow record batches: delta-rs locally, so a scan of a large table holds
        one batch in memory, not the whole column; in a catalog Spark reads them (one Arrow table)."""
        if self.mode != "local":
            yield from self.read(layer, name).select(*columns).toArrow().to_batches()
            return
        from deltalake import DeltaTable as DeltaLog

        yield from DeltaLog(self.path(layer, name)).to_pyarrow_dataset().to_batches(columns=list(columns))

    def table_comment(self, layer: str, name: str) -> str | None:
        """The table's comment (the Delta metadata's description). Locally delta-rs reads it from the log,
        where DESCRIBE TABLE EXTENDED costs a Spark query per table."""
        if self.mode == "local":
            from deltalake import DeltaTable as DeltaLog

            return DeltaLog(self.path(layer, name)).metadata().description
        rows = self.spark.sql(f"DESCRIBE TABLE EXTENDED {self.identifier(layer, name)}").collect()
        return next((r.data_type for r in rows if r.col_name == "Comment"), None)

    def delta_table(self, layer: str, name: str) -> DeltaTable:
        if self.mode == "local":
            return DeltaTable.forPath(self.spark, self.path(layer, name))
        return DeltaTable.forName(self.spark, f"{self.catalog}.{self.schemas.get(layer, layer)}.{name}")

    def version(self, layer: str, name: str) -> int | None:
        if not self.exists(layer, name):
            return None
        if self.mode == "local":
            # Per the Delta protocol the newest commit file <version:020d>.json names the version; listing
            # it is instant, where DESCRIBE HISTORY costs a Spark job per table.
            log_dir = self.settings.tables_dir / layer / name / "_delta_log"
            commits = [int(p.name[:-5]) for p in log_dir.iterdir() if _COMMIT_FILE.fullmatch(p.name)]
            if commits:
                return max(commits)
        row = self.delta_table(layer, name).history(1).select("version").first()
        return int(row["version"]) if row else None

    def log_stats(self, layer: str, name: str) -> LogStats | None:
        """The table's LogStats from the file statistics in its Delta log (delta-rs, no Spark job: a few ms
        where a cold Spark read costs a job). Local mode only; None when the log cannot give exact counts
        (a file without statistics, deletion vectors), so the caller scans instead."""
        if self.mode != "local" or not self.exists(layer, name):
            return None
        import pyarrow.compute as pc
        from deltalake import DeltaTable as DeltaLog

        log_table = DeltaLog(self.path(layer, name))
        if "deletionVectors" in (log_table.protocol().reader_features or []):
            return None
        dtypes = {f.name: getattr(f.type, "type", "struct") for f in log_table.schema().fields}
        if not log_table.file_uris():
            # Every row deleted (e.g. the last quarantine entries released): delta-rs panics listing no add actions.
            return LogStats(int(log_table.version()), 0, dtypes, {}, {})
        files = pa.table(log_table.get_add_actions(flatten=True))
        if files.num_rows and ("num_records" not in files.column_names or files["num_records"].null_count):
            return None
        low, high = {}, {}
        for col in dtypes:
            stats = [f"min.{col}", f"max.{col}", f"null_count.{col}"]
            if files.num_rows == 0 or not set(stats) <= set(files.column_names):
                continue
            has_values = pc.greater(files["num_records"], pc.fill_null(files[stats[2]], -1))
            if pc.any(pc.and_(has_values, pc.is_null(files[stats[0]]))).as_py():
                continue  # some file holds values but no statistics for this column
            low[col], high[col] = pc.min(files[stats[0]]).as_py(), pc.max(files[stats[1]]).as_py()
        rows = int(pc.sum(files["num_records"]).as_py() or 0) if files.num_rows else 0
        return LogStats(int(log_table.version()), rows, dtypes, low, high)

    def history(self, layer: str, name: str, limit: int | None = None) -> list[dict[str, Any]]:
        """The table's commits (the newest `limit` of them, or all), newest first: version, timestamp (UTC),
        operation, its parameters as text and the commit's userMetadata. Read from the Delta log with
        delta-rs locally (no Spark job), DESCRIBE HISTORY elsewhere."""
        if not self.exists(layer, name):
            return []
        if self.mode == "local":
            from deltalake import DeltaTable as DeltaLog

            commits = [
                (
                    c["version"],
                    c["timestamp"],
                    c["operation"],
                    c.get("operationParameters") or {},
                    c.get("userMetadata"),
                )
                for c in DeltaLog(self.path(layer, name)).history(limit)
            ]
        else:
            table = self.delta_table(layer, name)
            rows = (
                (table.history(limit) if limit else table.history())
                .select(
                    "version",
                    F.unix_millis("timestamp").alias("ms"),
                    "operation",
                    "operationParameters",
                    "userMetadata",
                )
                .collect()
            )
            commits = [
                (r["version"], r["ms"], r["operation"], r["operationParameters"] or {}, r["userMetadata"])
                for r in rows
            ]
        return [
            {
                "version": int(v),
                "timestamp": datetime.fromtimestamp(ms / 1000, UTC),
                "operation": op,
                "parameters": {k: str(p) for k, p in params.items()},
                "user_metadata": meta,
            }
            for v, ms, op, params, meta in sorted(commits, key=lambda c: -c[0])
        ]

    def versions(self, tables: Iterable[tuple[str, str]]) -> dict[str, int | None]:
        """Current Delta versions, keyed `layer.name`: the lineage recorded with runs and models."""
        return {f"{layer}.{name}": self.version(layer, name) for layer, name in tables}

    # ---- writes (each one is a single atomic Delta commit) ----------------------------------
    def _writer(self, df: DataFrame, mode: str, partition_by: Sequence[str] | None):
        writer = df.write.format("delta").mode(mode)
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        return writer

    def _save(self, writer, layer: str, name: str) -> None:
        if self.mode == "local":
            writer.save(self.path(layer, name))
        else:
            self.spark.sql(f"CREATE SCHEMA IF NOT EXISTS `{self.catalog}`.`{self.schemas.get(layer, layer)}`")
            writer.saveAsTable(f"{self.catalog}.{self.schemas.get(layer, layer)}.{name}")

    def append(
        self,
        df: DataFrame,
        layer: str,
        name: str,
        partition_by: Sequence[str] | None = None,
        txn: tuple[str, int] | None = None,
        properties: dict[str, str] | None = None,
        merge_schema: bool = False,
    ) -> None:
        """Append rows. With txn=(app_id, version) Delta skips a commit it has already seen (idempotent).

        `properties` (delta.* table properties) take effect when this append creates the table. merge_schema adds
        new nullable columns of df to an existing table (rows written before read them as null).
        """
        writer = self._writer(df, "append", partition_by)
        if merge_schema:
            writer = writer.option("mergeSchema", "true")
        if txn is not None:
            writer = writer.option("txnAppId", txn[0]).option("txnVersion", int(txn[1]))
        for key, value in (properties or {}).items():
            writer = writer.option(key, value)
        self._save(writer, layer, name)

    def overwrite(
        self,
        df: DataFrame,
        layer: str,
        name: str,
        partition_by: Sequence[str] | None = None,
        replace_where: str | None = None,
        user_metadata: str | None = None,
    ) -> None:
        """Replace the table (or only the rows matching replace_where) in one commit.

        user_metadata is kept in that commit's history entry (e.g. the input versions it was built from).
        """
        writer = self._writer(df, "overwrite", partition_by).option("overwriteSchema", replace_where is None)
        if replace_where:
            writer = writer.option("replaceWhere", replace_where)
        if user_metadata is not None:
            writer = writer.option("userMetadata", user_metadata)
        self._save(writer, layer, name)

    def merge(
        self,
        df: DataFrame,
        layer: str,
        name: str,
        keys: Sequence[str],
        *,
        update: bool = True,
        partition_by: Sequence[str] | None = None,
        condition: str | None = None,
        delete: str | None = None,
    ) -> None:
        """Upsert df into the table on its natural keys (null-safe); creates the table on first use.

        update=False inserts new keys only (first write wins); `condition` restricts which
        matched rows are updated (for example only when a value changed), so reruns commit no change.
        `delete` names a boolean column of df (not written) marking keys to delete instead, in the same commit.
        """
        columns = [c for c in df.columns if c != delete]
        if not self.exists(layer, name):
            rows = df if delete is None else df.filter(~F.col(delete)).select(*columns)
            self._save(self._writer(rows, "append", partition_by), layer, name)
            return
        on = " AND ".join(f"t.`{k}` <=> s.`{k}`" for k in keys)
        builder = self.delta_table(layer, name).alias("t").merge(df.alias("s"), on)
        if delete is None:
            if update:
                builder = builder.whenMatchedUpdateAll(condition=condition)
            builder.whenNotMatchedInsertAll().execute()
            return
        values = {f"`{c}`": f"s.`{c}`" for c in columns}
        builder = builder.whenMatchedDelete(condition=f"s.`{delete}`")
        if update:
            builder = builder.whenMatchedUpdate(condition=condition, set=values)
        builder.whenNotMatchedInsert(condition=f"NOT s.`{delete}`", values=values).execute()

    def add_missing_columns(self, layer: str, name: str, schema: T.StructType) -> None:
        """Add the schema's newer columns (nullable) to a table written before they existed, so a MERGE of rows
        carrying them keeps them; rows written before read them as null. No-op without the table."""
        if not self.exists(layer, name):
            return
        present = set(self.read(layer, name).columns)
        missing = [f for f in schema.fields if f.name not in present]
        if missing:
            columns = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in missing)
            self.spark.sql(f"ALTER TABLE {self.identifier(layer, name)} ADD COLUMNS ({columns})")

    def delete(self, layer: str, name: str, condition: str) -> None:
        if self.exists(layer, name):
            self.delta_table(layer, name).delete(condition)

    def vacuum(
        self, layer: str, name: str, retention_hours: float, lite: bool = False, purge: bool = False
    ) -> None:
        """Delete files unreferenced for retention_hours. LITE finds them in the Delta log instead of listing
        storage (much faster); it raises DELTA_CANNOT_VACUUM_LITE when the log no longer covers them.

        Delta refuses a retention_hours below the table's delta.deletedFileRetentionDuration (7 days by
        default). purge=True is for a deliberate erase of history: that check is off for this call only."""
        if not self.exists(layer, name):
            return
        with delta_retention_check_off(self.spark) if purge else nullcontext():
            if lite:
                hours = float(retention_hours)
                self.spark.sql(f"VACUUM {self.identifier(layer, name)} LITE RETAIN {hours} HOURS")
            else:
                self.delta_table(layer, name).vacuum(retention_hours)

    def comment(
        self, layer: str, name: str, table_comment: str | None, column_comments: dict[str, str]
    ) -> None:
        """Write table and column comments (the data dictionary lives in the tables themselves).

        table_comment None leaves the table comment as it is; all column comments go in one ALTER (one commit).
        """
        ident = self.identifier(layer, name)
        if table_comment is not None:
            safe = table_comment.replace("'", "\\'")
            self.spark.sql(f"ALTER TABLE {ident} SET TBLPROPERTIES ('comment' = '{safe}')")
        existing = set(self.read(layer, name).columns)
        changes = [
            "`{}` COMMENT '{}'".format(col, text.replace("'", "\\'"))
            for col, text in column_comments.items()
            if col in existing
        ]
        if changes:
            self.spark.sql(f"ALTER TABLE {ident} ALTER COLUMN {', '.join(changes)}")
