"""Incremental ingestion landing -> bronze: each landing file (path + sha256) is taken exactly once.

Per source and batch, new files are read into raw text rows (readers), mapped onto the template columns
(mapping), staged as one Parquet file under landing/_staging/ and appended to bronze.<table> in ONE
Delta commit carrying txn (bronze-<kind>, table version + 1). The file records (ops.ingested_files) are
written after the bronze commits; a file whose (path, hash) already has rows in bronze counts as taken
even without a record, so a crash between the two steps never duplicates rows. Whole-file rejections
go to ops.quarantine with a `file:*` rule and are recorded as rejected; the rest of the batch flows.
A file over the ingest limits (bakery.ingest.limits) is refused before it is decoded, and one that breaks a
reader in a way no rule foresaw is rejected as file:unreadable: either way it is quarantined once, and
stays taken (a later run does not read it again) until a new version of it arrives.

Personal data is pseudonymised before anything is staged (bakery.ingest.pseudonymise): no raw value of a
personal column reaches bronze, `_rescued_data` included.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyspark.sql import functions as F
from pyspark.sql import types as T

from bakery.config import Settings, SourceSpec
from bakery.faults import fault_point
from bakery.ingest.landing import LandingFile, scan_landing
from bakery.ingest.limits import IngestLimits, ingest_limits
from bakery.ingest.mapping import ColumnMapping, Synonyms, load_synonyms, map_columns
from bakery.ingest.pseudonymise import PrivacyRules, PseudonymKeyError, load_pseudonym_key, pseudonymise_raw
from bakery.ingest.readers import FileRejected, RawTable, file_format, read_bytes, unique_names
from bakery.ingest.registry import FileRecord, found_in_bronze, record_files, sha256_file, taken_files
from bakery.lakehouse import Lakehouse
from bakery.ops.quarantine import QUARANTINE_SCHEMA, quarantine_rows

log = logging.getLogger(__name__)

STAGING_DIR = "_staging"
# File statistics only on the columns bronze is filtered by (batches, arrival time, file identity): the raw
# text columns are never filtered on, and collecting their min/max doubles the cost of writing bronze.
BRONZE_PROPERTIES = {"delta.dataSkippingStatsColumns": "_batch_id,_ingested_at,_source_file,_file_hash"}


def bronze_schema(spec: SourceSpec) -> T.StructType:
    """bronze.<table>: every template column as raw text, then the ingest metadata."""
    fields = [T.StructField(c, T.StringType(), True) for c in spec.column_names]
    fields += [T.StructField(c, T.StringType(), True) for c in ("_rescued_data", "_malformed")]
    fields += [T.StructField(c, T.StringType(), False) for c in ("_source_file", "_file_hash")]
    fields += [
        T.StructField("_row_number", T.LongType(), False),
        T.StructField("_ingested_at", T.TimestampType(), False),
        T.StructField("_batch_id", T.StringType(), False),
    ]
    return T.StructType(fields)


def _staged_schema(spec: SourceSpec) -> pa.Schema:
    """The Parquet staging layout: the bronze schema minus _batch_id (a literal added by Spark)."""
    return pa.schema(
        [
            (c, pa.string())
            for c in (*spec.column_names, "_rescued_data", "_malformed", "_source_file", "_file_hash")
        ]
        + [("_row_number", pa.int64()), ("_ingested_at", pa.timestamp("us", tz="UTC"))]
    )


@dataclass
class SourceStats:
    """What one source contributed to the batch."""

    files_seen: int = 0
    files_ingested: int = 0
    files_rejected: int = 0
    files_recovered: int = 0
    rows: int = 0
    malformed_rows: int = 0
    rescued_rows: int = 0


@dataclass
class BronzeResult:
    """The bronze step's report: per-source counts and every rejected file with its rule and reason."""

    batch_id: str
    sources: dict[str, SourceStats] = field(default_factory=dict)
    rejected: list[dict[str, str]] = field(default_factory=list)
    ignored_folders: list[str] = field(default_factory=list)
    seconds: float = 0.0
    ok: bool = True

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.sources.values())

    def summary_lines(self) -> list[str]:
        lines = [f"batch {self.batch_id}: {self.rows} new bronze rows in {self.seconds:.1f}s"]
        for kind, s in self.sources.items():
            if s.files_ingested or s.files_rejected or s.files_recovered:
                extra = "".join(
                    [
                        f", {s.malformed_rows} malformed" if s.malformed_rows else "",
                        f", {s.rescued_rows} with rescued columns" if s.rescued_rows else "",
                        f", {s.files_recovered} recovered" if s.files_recovered else "",
                    ]
                )
                rejected = f", {s.files_rejected} REJECTED" if s.files_rejected else ""
                lines.append(f"{kind}: {s.files_ingested} file(s), {s.rows} rows{extra}{rejected}")
        lines += [f"rejected {r['source_file']}: {r['rule']}: {r['reason']}" for r in self.rejected]
        lines += [f"ignored landing folder {name}/ (not a source)" for name in self.ignored_folders]
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "batch_id": self.batch_id,
            "rows": self.rows,
            "seconds": round(self.seconds, 2),
            "sources": {k: asdict(v) for k, v in self.sources.items()},
            "rejected": self.rejected,
            "ignored_folders": self.ignored_folders,
        }


# ---- transform: one file's raw rows -> bronze rows (Arrow) -----------------------------------------
def _constant(n: int, value: Any, typ: pa.DataType) -> pa.Array:
    return pc.fill_null(pa.nulls(n, typ), pa.scalar(value, typ))


def rescued_json(raw: RawTable, cm: ColumnMapping) -> pa.Array:
    """Unknown columns of each row as a JSON object (raw text of a malformed row under "_raw"); else null."""
    n = raw.num_rows
    names = unique_names(raw.headers)
    extra = [(names[i], raw.column(i)) for i in cm.unmapped if raw.column(i).null_count < n]
    needed = pc.is_valid(raw.malformed)
    for _, col in extra:
        needed = pc.or_(needed, pc.is_valid(col))
    rows = np.flatnonzero(needed.to_numpy(zero_copy_only=False))
    if rows.size == 0:
        return pa.nulls(n, pa.string())
    picked = [(name, col.take(rows).to_pylist()) for name, col in extra]
    raws = raw.raw.take(rows).to_pylist()
    out: list[str | None] = [None] * n
    for k, r in enumerate(rows):
        obj = {name: values[k] for name, values in picked if values[k] is not None}
        if raws[k] is not None:
            obj["_raw"] = raws[k]
        out[r] = json.dumps(obj, ensure_ascii=False)
    return pa.array(out, pa.string())


def bronze_rows(
    raw: RawTable,
    cm: ColumnMapping,
    spec: SourceSpec,
    source_file: str,
    file_hash: str,
    ingested_at: datetime,
) -> pa.Table:
    """A file's rows in the staged bronze layout (template columns by mapping, unknown ones rescued)."""
    n = raw.num_rows
    cols: dict[str, Any] = {
        c: raw.column(cm.assigned[c]) if c in cm.assigned else pa.nulls(n, pa.string())
        for c in spec.column_names
    }
    cols["_rescued_data"] = rescued_json(raw, cm)
    cols["_malformed"] = raw.malformed
    cols["_source_file"] = _constant(n, source_file, pa.string())
    cols["_file_hash"] = _constant(n, file_hash, pa.string())
    cols["_row_number"] = raw.row_number
    cols["_ingested_at"] = _constant(n, ingested_at, pa.timestamp("us", tz="UTC"))
    return pa.table(cols, schema=_staged_schema(spec))


def check_size(lf: LandingFile, max_bytes: int | None) -> None:
    """FileRejected for a file bigger than ingest.max_file_bytes (before it is read)."""
    if max_bytes and lf.size > max_bytes:
        raise FileRejected("file:too_large", f"{lf.size} bytes exceeds ingest.max_file_bytes={max_bytes}")


def parse_landing_file(
    data: bytes,
    lf: LandingFile,
    spec: SourceSpec,
    synonyms: Synonyms,
    max_bytes: int | None,
    limits: IngestLimits | None = None,
) -> tuple[RawTable, ColumnMapping]:
    """Read and map one file, or FileRejected when nothing of it can be taken."""
    check_size(lf, max_bytes)
    raw = read_bytes(data, file_format(lf.path), limits=limits)
    cm = map_columns(raw.headers, spec, synonyms)
    if cm.missing_required:
        raise FileRejected("file:missing_columns", cm.describe_missing())
    return raw, cm


class _Pseudonymiser:
    """Pseudonymises each file's raw rows; loads the key the first time a file has personal data."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.rules = PrivacyRules.from_settings(settings)
        self._key: bytes | None = None

    def key(self) -> bytes:
        if self._key is None:
            self._key = load_pseudonym_key(self.settings)
        return self._key

    def __call__(self, raw: RawTable, cm: ColumnMapping, relpath: str) -> RawTable:
        template_names = {i: col for col, i in cm.assigned.items()}
        raw, done = pseudonymise_raw(raw, template_names, self.rules, self.key)
        if done.columns or done.malformed_rows:
            log.info(
                "%s: pseudonymised column(s) %s; personal values in %d malformed row(s)",
                relpath,
                ", ".join(done.columns) or "none",
                done.malformed_rows,
            )
        return raw


def _unreadable(exc: Exception) -> FileRejected:
    """A reader failure no rule foresaw, as a rejection (the file is quarantined, not retried every night)."""
    return FileRejected(
        "file:unreadable", f"the file could not be read ({type(exc).__name__}: {str(exc)[:300]})"
    )


# ---- IO -------------------------------------------------------------------------------------------
def _now() -> datetime:
    return datetime.now(UTC)


class _SourceBatch:
    """The new files of one source in this batch: staged rows (one Parquet file), file records, rejections."""

    def __init__(self, spec: SourceSpec, staged: Path, batch_id: str, files_seen: int) -> None:
        self.spec = spec
        self.staged = staged
        self.batch_id = batch_id
        self.stats = SourceStats(files_seen=files_seen)
        self.records: list[FileRecord] = []
        self.rejections: list[tuple[str, str, str, str]] = []
        self._writer: pq.ParquetWriter | None = None

    def _record(self, lf: LandingFile, file_hash: str, rows: int, status: str, reason: str | None) -> None:
        self.records.append(
            FileRecord(
                self.spec.kind, lf.relpath, file_hash, lf.size, rows, status, reason, self.batch_id, _now()
            )
        )

    def recovered(self, lf: LandingFile, file_hash: str, rows: int) -> None:
        self.stats.files_recovered += 1
        self._record(lf, file_hash, rows, "ingested", "recovered: rows found in bronze without a file record")

    def rejected(self, lf: LandingFile, file_hash: str, rej: FileRejected) -> None:
        log.warning("rejected %s: %s", lf.relpath, rej)
        self.stats.files_rejected += 1
        self.rejections.append((lf.relpath, rej.rule, rej.reason, file_hash))
        self._record(lf, file_hash, 0, "rejected", f"{rej.rule}: {rej.reason}")

    def ingested(self, lf: LandingFile, file_hash: str, raw: RawTable, cm: ColumnMapping) -> None:
        table = bronze_rows(raw, cm, self.spec, lf.relpath, file_hash, _now())
        if self._writer is None:
            self._writer = pq.ParquetWriter(
                self.staged, table.schema, compression="none", write_statistics=False
            )
        self._writer.write_table(table)
        self.stats.files_ingested += 1
        self.stats.rows += table.num_rows
        self.stats.malformed_rows += raw.num_rows - raw.malformed.null_count
        self.stats.rescued_rows += table.num_rows - table.column("_rescued_data").null_count
        self._record(lf, file_hash, table.num_rows, "ingested", None)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _stage_source(
    lh: Lakehouse,
    settings: Settings,
    files: list[LandingFile],
    spec: SourceSpec,
    batch_id: str,
    staging: Path,
    taken: set[tuple[str, str]],
    synonyms: Synonyms,
) -> _SourceBatch:
    """Hash every file, skip the taken ones, recover the committed-but-unrecorded, stage the rest."""
    t0 = time.perf_counter()
    batch = _SourceBatch(spec, staging / f"{spec.kind}.parquet", batch_id, len(files))
    hashes = {lf.relpath: sha256_file(lf.path) for lf in files}
    new = [lf for lf in files if (lf.relpath, hashes[lf.relpath]) not in taken]
    recovered = found_in_bronze(lh, spec.table, [(lf.relpath, hashes[lf.relpath]) for lf in new])
    max_bytes = settings.get("ingest.max_file_bytes")
    limits = ingest_limits(settings)
    pseudonymise = _Pseudonymiser(settings)
    try:
        for lf in new:
            file_hash = hashes[lf.relpath]
            if (lf.relpath, file_hash) in recovered:
                batch.recovered(lf, file_hash, recovered[(lf.relpath, file_hash)])
                continue
            try:
                check_size(lf, max_bytes)
            except FileRejected as rej:
                batch.rejected(lf, file_hash, rej)
                continue
            data = lf.path.read_bytes()
            if hashlib.sha256(data).hexdigest() != file_hash:
                log.warning("%s changed while being read; the next run takes it", lf.relpath)
                continue
            try:
                raw, cm = parse_landing_file(data, lf, spec, synonyms, max_bytes, limits)
                raw = pseudonymise(raw, cm, lf.relpath)
            except FileRejected as rej:
                batch.rejected(lf, file_hash, rej)
                continue
            except PseudonymKeyError:
                raise
            except Exception as exc:  # a poisoned file must not stop every later night's ingest
                log.exception("%s could not be read", lf.relpath)
                batch.rejected(lf, file_hash, _unreadable(exc))
                continue
            del data
            batch.ingested(lf, file_hash, raw, cm)
    finally:
        batch.close()
    log.debug(
        "bronze %s: %d new of %d file(s) staged in %.1fs",
        spec.kind,
        len(new),
        len(files),
        time.perf_counter() - t0,
    )
    return batch


def _append_bronze(lh: Lakehouse, batch: _SourceBatch, batch_id: str) -> None:
    """One idempotent Delta append of everything staged for the source."""
    t0 = time.perf_counter()
    spec = batch.spec
    schema = bronze_schema(spec)
    staged = T.StructType([f for f in schema.fields if f.name != "_batch_id"])
    df = (
        lh.spark.read.schema(staged)
        .parquet(str(batch.staged))
        .withColumn("_batch_id", F.lit(batch_id))
        .select(*schema.fieldNames())
    )
    before = lh.version("bronze", spec.table)
    txn = (f"bronze-{spec.kind}", 0 if before is None else before + 1)
    lh.append(df, "bronze", spec.table, txn=txn, properties=BRONZE_PROPERTIES)
    if lh.version("bronze", spec.table) == before:
        raise RuntimeError(
            f"bronze.{spec.table}: append with txn {txn} was skipped as already committed; "
            "is another ingest running on this home?"
        )
    log.info(
        "bronze.%s: appended %d rows from %d file(s) in %.1fs",
        spec.table,
        batch.stats.rows,
        batch.stats.files_ingested,
        time.perf_counter() - t0,
    )


def _quarantine_files(lh: Lakehouse, rejections: list[tuple[str, str, str, str, str]], batch_id: str) -> None:
    if not rejections:
        return
    now = _now().replace(tzinfo=None)
    rows = [
        (kind, path, None, batch_id, rule, None, reason, json.dumps({"file_hash": file_hash}), now)
        for kind, path, rule, reason, file_hash in rejections
    ]
    quarantine_rows(lh, lh.spark.createDataFrame(rows, QUARANTINE_SCHEMA))


def _clear_staging(root: Path) -> None:
    if root.is_dir():
        shutil.rmtree(root, ignore_errors=True)


def ingest_landing(lh: Lakehouse, settings: Settings, batch_id: str) -> BronzeResult:
    """Take every new landing file into bronze; rejected files are quarantined and the rest flows."""
    t0 = time.perf_counter()
    files, unknown = scan_landing(settings)
    result = BronzeResult(batch_id=batch_id, ignored_folders=unknown)
    staging_root = settings.landing_dir / STAGING_DIR
    _clear_staging(staging_root)  # leftovers of a crashed run; never read again
    staging = staging_root / batch_id
    staging.mkdir(parents=True, exist_ok=True)
    taken = taken_files(lh)
    synonyms = load_synonyms(settings)
    records: list[FileRecord] = []
    rejections: list[tuple[str, str, str, str, str]] = []
    # Python stages the next sources in a background thread while Spark appends the current one.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bronze-stage")
    try:
        staged = {
            kind: pool.submit(
                _stage_source,
                lh,
                settings,
                kind_files,
                settings.source(kind),
                batch_id,
                staging,
                taken,
                synonyms,
            )
            for kind, kind_files in files.items()
            if kind_files
        }
        for kind, future in staged.items():
            batch = future.result()
            if batch.stats.rows:
                _append_bronze(lh, batch, batch_id)
            result.sources[kind] = batch.stats
            records += batch.records
            rejections += [(kind, *r) for r in batch.rejections]
            result.rejected += [
                {"source": kind, "source_file": p, "rule": rule, "reason": reason}
                for p, rule, reason, _ in batch.rejections
            ]
        fault_point("bronze_before_records")
        _quarantine_files(lh, rejections, batch_id)
        record_files(lh, records)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _clear_staging(staging)
        if staging_root.is_dir() and not any(staging_root.iterdir()):
            staging_root.rmdir()
    result.seconds = time.perf_counter() - t0
    log.info("bronze: %s", "; ".join(result.summary_lines()))
    return result
