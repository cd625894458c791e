"""The upload module (design section 8): staging, auto-mapping, preview, dry-run validation, commit as a batch,
soft delete / replace, retraining flag. Validation and landing are bakery.ingest's, shared with `bakery import`.

Flow: a file is staged under <home>/app/staging/<token>/ (owner recorded); reading, mapping and preview use the
ingest readers and `map_columns`; "validate" runs `validate_raw` with the stored keys (nothing written but a
bad-rows CSV in staging); "load" runs `import_file`, which validates again and lands the good rows as
landing/<kind>/import_*.parquet only when the error rate is within the threshold. Every accepted upload is a
batch: a row in the app database, a copy of the original under <home>/app/uploads/<batch_id>/, and an event
in ops.upload_batches (batch_id, source_file, status). From the next ETL run on, silver leaves out the rows
of deleted or replaced batches and takes out those it already holds (bakery.silver.retired). A replacement
is a new batch; rows stored from the batch it replaces do not count as duplicates when it is loaded.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import secrets
import shutil
import threading
import time
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pandas as pd
import pyarrow as pa
from sqlalchemy import select
from werkzeug.exceptions import Forbidden

from bakery.app import audit
from bakery.app.auth import Principal
from bakery.app.context import AppContext
from bakery.app.db import UploadBatch
from bakery.app.retrain import request_retrain
from bakery.ingest.landing import landing_relpath
from bakery.ingest.readers import FileRejected, RawTable, file_format, read_bytes
from bakery.ingest.reshape import ReshapeError, reshape_raw

log = logging.getLogger(__name__)

BATCH_LOG = ("ops", "upload_batches")
BATCH_LOG_SCHEMA = pa.schema([
    ("batch_id", pa.string()), ("kind", pa.string()), ("source_file", pa.string()), ("original_name", pa.string()),
    ("file_hash", pa.string()), ("uploaded_by", pa.string()), ("status", pa.string()), ("rows_loaded", pa.int64()),
    ("replaces", pa.string()), ("changed_at", pa.timestamp("us", tz="UTC"))])
ACCEPTED_SUFFIXES = (".csv", ".txt", ".xlsx", ".json", ".jsonl", ".ndjson", ".parquet")
STAGING_MAX_AGE = 24 * 3600


class UploadTooLarge(Exception):
    """The file is larger than uploads.max_bytes (HTTP 413)."""


@dataclass
class UploadRequest:
    kind: str
    filename: str
    stream: IO[bytes] | None = None
    data: bytes | None = None
    mapping: dict[str, Any] | None = None
    shape: dict[str, Any] | None = None
    on_duplicate: str = "skip"
    max_error_rate: float | None = None


@dataclass(frozen=True)
class Staged:
    token: str
    kind: str
    original_name: str
    path: Path
    size: int
    sha256: str
    owner: str


# ---- bytes in ---------------------------------------------------------------------------------------------
def read_limited(stream: IO[bytes], max_bytes: int) -> bytes:
    """Read at most max_bytes (UploadTooLarge beyond), without holding more than that in memory."""
    buf = io.BytesIO()
    while chunk := stream.read(1 << 20):
        buf.write(chunk)
        if buf.tell() > max_bytes:
            raise UploadTooLarge(f"the file is larger than the {max_bytes // 2**20} MiB limit")
    return buf.getvalue()


def check_archive(data: bytes, max_uncompressed: int, max_members: int = 2000) -> None:
    """Refuse an XLSX (a zip) whose members would inflate beyond the limit: a zip bomb posing as a workbook."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except zipfile.BadZipFile:
        raise FileRejected("file:unreadable", "not an XLSX workbook (the zip container is damaged)") from None
    if len(infos) > max_members:
        raise FileRejected("file:zip_bomb", f"the workbook has {len(infos)} parts; refusing to open it")
    total = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if total > max_uncompressed or (total > 50 * 2**20 and total / packed > 100):
        raise FileRejected("file:zip_bomb", f"the workbook would expand to {total // 2**20} MiB "
                                            f"(limit {max_uncompressed // 2**20} MiB); refusing to open it")


def safe_filename(name: str) -> str:
    base = Path(name.replace("\\", "/")).name
    stem = re.sub(r"[^A-Za-z0-9_. -]+", "_", Path(base).stem).strip(" ._")[:80] or "upload"
    suffix = Path(base).suffix.lower()
    return stem + suffix


def _check_suffix(name: str) -> None:
    if Path(name).suffix.lower() not in ACCEPTED_SUFFIXES:
        raise FileRejected("file:unsupported_format", f"unsupported file type {Path(name).suffix or '(none)'!r}; "
                                                      "use CSV, XLSX, JSON or Parquet")


# ---- staging ----------------------------------------------------------------------------------------------
def staging_root(ctx: AppContext) -> Path:
    return ctx.conf.app_dir / "staging"


def _clean_staging(root: Path) -> None:
    if not root.is_dir():
        return
    now = time.time()
    for d in root.iterdir():
        if d.is_dir() and now - d.stat().st_mtime > STAGING_MAX_AGE:
            shutil.rmtree(d, ignore_errors=True)


def stage(ctx: AppContext, principal: Principal, kind: str, filename: str, data: bytes) -> Staged:
    """Keep an uploaded file for the mapping/preview/validate steps; only its owner may use it."""
    if kind not in ctx.conf.get("uploads.kinds", []):
        raise ValueError(f"kind {kind!r}: not an upload kind")
    if len(data) > int(ctx.conf.get("uploads.max_bytes")):
        raise UploadTooLarge(f"the file is larger than the {int(ctx.conf.get('uploads.max_bytes')) // 2**20} MiB limit")
    root = staging_root(ctx)
    _clean_staging(root)
    token = secrets.token_urlsafe(16)
    folder = root / token
    folder.mkdir(parents=True)
    name = safe_filename(filename)
    path = folder / name
    path.write_bytes(data)
    meta = {"kind": kind, "original_name": filename[:300], "owner": principal.username,
            "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return Staged(token, kind, meta["original_name"], path, len(data), meta["sha256"], principal.username)


def load_staged(ctx: AppContext, principal: Principal, token: str | None) -> Staged:
    """The staged file for `token`, only for the user who staged it (403 for anyone else)."""
    if not token or not re.fullmatch(r"[A-Za-z0-9_-]{10,64}", token):
        raise Forbidden("unknown upload")
    folder = staging_root(ctx) / token
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        raise Forbidden("unknown or expired upload") from None
    if meta["owner"] != principal.username:
        raise Forbidden("this upload belongs to another user")
    path = next(p for p in folder.iterdir() if p.name not in ("meta.json", "bad_rows.csv", "reshaped.csv"))
    return Staged(token, meta["kind"], meta["original_name"], path, meta["size"], meta["sha256"], meta["owner"])


# ---- reading, mapping, preview ----------------------------------------------------------------------------
_parsed: OrderedDict[tuple, RawTable] = OrderedDict()
_parsed_lock = threading.Lock()


def parse(ctx: AppContext, staged: Staged, shape: dict[str, Any] | None = None) -> RawTable:
    """The staged file as text rows (reshaped if a shape is given); FileRejected / ReshapeError say why not."""
    key = (staged.token, json.dumps(shape, sort_keys=True) if shape else None)
    with _parsed_lock:
        if key in _parsed:
            return _parsed[key]
    _check_suffix(staged.original_name)
    data = staged.path.read_bytes()
    fmt = file_format(staged.path)
    if fmt == "xlsx" and data.startswith(b"PK"):
        check_archive(data, int(ctx.conf.get("uploads.max_uncompressed_bytes", 256 * 2**20)))
    raw = read_bytes(data, fmt, exact=True)
    max_rows = int(ctx.conf.get("uploads.max_rows", 1_000_000))
    if raw.num_rows > max_rows:
        raise FileRejected("file:too_many_rows", f"{raw.num_rows} rows; the limit is {max_rows}")
    if shape:
        raw = reshape_raw(raw, shape)
    with _parsed_lock:
        _parsed[key] = raw
        while len(_parsed) > 4:
            _parsed.popitem(last=False)
    return raw


def auto_mapping(ctx: AppContext, raw: RawTable, kind: str, explicit: dict[str, Any] | None = None):
    """Template column -> file column by explicit choice, then name, then synonyms (es/en/de)."""
    from bakery.ingest.mapping import load_synonyms, map_columns

    return map_columns(list(raw.headers), ctx.settings.source(kind), load_synonyms(ctx.settings), explicit)


def preview(raw: RawTable, mapping: dict[str, str], columns: list[str], n: int) -> list[dict[str, Any]]:
    """The first n rows as they would be read under the mapping (template column names)."""
    frame = raw.frame().head(n)
    return [{"row": int(idx), **{c: (r.get(mapping[c]) if c in mapping else None) for c in columns}}
            for idx, r in zip(frame.index, frame.to_dict("records"), strict=True)]


def validate(ctx: AppContext, staged: Staged, raw: RawTable, mapping: dict[str, Any] | None, on_duplicate: str,
             replaces: str | None = None):
    """A dry run of the import validation (same function, same stored keys as commit, so the rows of the
    batch it would replace are not duplicates); writes only the bad-rows CSV."""
    from bakery.ingest.importer import _write_bad_rows, store_timezones, stored_keys
    from bakery.ingest.mapping import load_synonyms
    from bakery.ingest.validate import validate_raw

    spec = ctx.settings.source(staged.kind)
    report = validate_raw(raw, spec, mapping, synonyms=load_synonyms(ctx.settings),
                          existing_keys=stored_keys(ctx.settings, spec, _landing_files(ctx, replaces)),
                          store_timezones=store_timezones(ctx.settings), on_duplicate=on_duplicate)
    reasons = report.row_reasons()
    bad = staged.path.parent / "bad_rows.csv"
    if reasons:
        _write_bad_rows(bad, raw, reasons)
    else:
        bad.unlink(missing_ok=True)
    return report


def bad_rows_path(ctx: AppContext, principal: Principal, token: str) -> Path | None:
    path = load_staged(ctx, principal, token).path.parent / "bad_rows.csv"
    return path if path.exists() else None


# ---- commit, batches ---------------------------------------------------------------------------------------
def _new_batch_id() -> str:
    return "upl-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def _log_batch(ctx: AppContext, b: UploadBatch, source_file: str | None) -> None:
    """An event row in ops.upload_batches (latest row per batch_id = its status), for the pipeline."""
    row = pd.DataFrame([{"batch_id": b.batch_id, "kind": b.kind, "source_file": source_file,
                         "original_name": b.original_name, "file_hash": b.file_hash, "uploaded_by": b.uploaded_by,
                         "status": b.status, "rows_loaded": int(b.rows_loaded), "replaces": b.replaces,
                         "changed_at": pd.Timestamp(datetime.now(UTC))}])
    try:
        ctx.serving.append(BATCH_LOG, row, BATCH_LOG_SCHEMA)
    except Exception:  # the database row is the record; the log is for the pipeline and is retried on change
        log.exception("could not append to ops.upload_batches for %s", b.batch_id)


def _landing_files(ctx: AppContext, batch_id: str | None) -> list[str]:
    """The landing file of an accepted batch: a replacement's rows for its keys are not stored duplicates."""
    if not batch_id:
        return []
    with ctx.db.session() as s:
        b = s.get(UploadBatch, batch_id)
        return [b.path] if b is not None and b.status == "accepted" and b.path else []


def _history_days(ctx: AppContext, kind: str, rows: pd.DataFrame) -> int:
    """How many store x product x day observations an upload adds (for the retraining rule)."""
    if kind == "sales":
        return len(rows)
    if kind == "pos" and len(rows):
        return int(rows.assign(d=rows["timestamp"].str[:10]).drop_duplicates(["d", "store_id", "product_id"]).shape[0])
    return 0


def commit(ctx: AppContext, principal: Principal, staged: Staged, *, mapping: dict[str, Any] | None,
           shape: dict[str, Any] | None, on_duplicate: str, max_error_rate: float, replaces: str | None = None,
           ip: str | None = None) -> dict[str, Any]:
    """Validate and, if within the threshold, land the rows as a new batch; returns the report as a dict."""
    from bakery.ingest.importer import import_file

    if principal.role not in ("analyst", "admin"):
        raise Forbidden("only analysts and admins may load data")
    source = staged.path
    raw = parse(ctx, staged, shape)  # size, zip-bomb and row-count guards before the importer opens the file
    if shape:
        source = staged.path.parent / "reshaped.csv"
        raw.frame().to_csv(source, index=False)
    result = import_file(ctx.settings, staged.kind, source, mapping=mapping, on_duplicate=on_duplicate,
                         max_error_rate=max_error_rate, replaces_files=_landing_files(ctx, replaces))
    report = json.loads(result.report_path.read_text(encoding="utf-8"))
    batch_id = _new_batch_id()
    landed = result.landing_path
    batch = UploadBatch(batch_id=batch_id, kind=staged.kind, original_name=staged.original_name,
                        file_hash=staged.sha256, uploaded_by=principal.username,
                        status="accepted" if result.accepted else "rejected",
                        rows_total=int(result.totals.get("rows", 0)),
                        rows_loaded=int(result.totals.get("rows_written", 0)),
                        rows_rejected=int(result.totals.get("invalid_rows", 0)),
                        rows_duplicate=int(result.totals.get("skipped_duplicates", 0)), on_duplicate=on_duplicate,
                        max_error_rate=max_error_rate, replaces=replaces,
                        path=landing_relpath(ctx.settings, landed) if landed else None,
                        report=json.dumps({k: report.get(k) for k in ("reason", "totals", "mapping", "fatal",
                                                                       "ignored_columns", "bad_rows_csv")}))
    flagged = False
    if result.accepted:
        keep = ctx.conf.uploads_dir / batch_id
        keep.mkdir(parents=True, exist_ok=True)
        shutil.copy2(staged.path, keep / f"original{staged.path.suffix}")
        if result.bad_rows_path:
            shutil.copy2(result.bad_rows_path, keep / "bad_rows.csv")
        (keep / "batch.json").write_text(json.dumps({"batch_id": batch_id, "kind": staged.kind,
                                                     "original_name": staged.original_name,
                                                     "uploaded_by": principal.username,
                                                     "uploaded_at": datetime.now(UTC).isoformat(),
                                                     "landing_file": batch.path, "replaces": replaces,
                                                     "validation": report}, indent=2, default=str), encoding="utf-8")
        flagged = _maybe_flag_retrain(ctx, principal, staged.kind, batch_id, result.landing_path)
        batch.retrain_flagged = flagged
    with ctx.db.session() as s:
        s.add(batch)
    audit.record(ctx.db, principal.username, "upload.accepted" if result.accepted else "upload.rejected", batch_id,
                 success=result.accepted, ip=ip, kind=staged.kind, file=staged.original_name,
                 rows=batch.rows_total, loaded=batch.rows_loaded, rejected=batch.rows_rejected,
                 reason=result.reason[:300], replaces=replaces)
    if result.accepted:
        _log_batch(ctx, batch, batch.path)
        if replaces:
            _retire(ctx, principal, replaces, "replaced", ip, replaced_by=batch_id)
    return {"accepted": result.accepted, "batch_id": batch_id if result.accepted else None, "kind": staged.kind,
            "reason": result.reason, "totals": result.totals, "errors": (report.get("errors") or [])[:1000],
            "mapping": report.get("mapping") or {}, "ignored_columns": report.get("ignored_columns") or [],
            "retrain_flagged": flagged}


def _maybe_flag_retrain(ctx: AppContext, principal: Principal, kind: str, batch_id: str, landed: Path | None) -> bool:
    """Flag retraining when an upload adds more than `retrain_fraction` of the stored history."""
    if kind not in ("sales", "pos") or landed is None:
        return False
    added = _history_days(ctx, kind, pd.read_parquet(landed))
    history = ctx.serving.row_count(("gold", "daily_sales"))
    fraction = float(ctx.options.get("retrain_fraction"))
    if added > fraction * history:
        request_retrain(ctx.settings, principal.username, f"upload {batch_id} adds {added} observations to "
                                                          f"{history} stored ({kind})", batch_id=batch_id)
        return True
    return False


def _retire(ctx: AppContext, principal: Principal, batch_id: str, status: str, ip: str | None,
            replaced_by: str | None = None) -> UploadBatch:
    """Soft-delete or mark replaced: the batch stays on record, its landing file moves out of the landing zone,
    ops.upload_batches tells the pipeline to leave its rows out, and retraining is flagged."""
    with ctx.db.session() as s:
        b = s.get(UploadBatch, batch_id)
        if b is None or b.status != "accepted":
            raise ValueError(f"batch {batch_id!r}: no accepted batch with this id")
        b.status, b.deleted_at, b.deleted_by, b.replaced_by = status, datetime.now(UTC), principal.username, replaced_by
        if b.path:
            landed = ctx.settings.landing_dir / b.path
            if landed.exists():
                target = ctx.conf.uploads_dir / batch_id / "landed.parquet"
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(landed), target)
    _log_batch(ctx, b, b.path)
    request_retrain(ctx.settings, principal.username, f"upload batch {batch_id} {status}", batch_id=batch_id)
    audit.record(ctx.db, principal.username, f"upload.{'deleted' if status == 'deleted' else 'replaced'}", batch_id,
                 ip=ip, kind=b.kind, file=b.original_name, replaced_by=replaced_by)
    return b


def soft_delete(ctx: AppContext, principal: Principal, batch_id: str, ip: str | None = None) -> UploadBatch:
    if principal.role not in ("analyst", "admin"):
        raise Forbidden("only analysts and admins may delete batches")
    return _retire(ctx, principal, batch_id, "deleted", ip)


def list_batches(ctx: AppContext, limit: int = 200) -> list[dict[str, Any]]:
    with ctx.db.session() as s:
        rows = s.scalars(select(UploadBatch).order_by(UploadBatch.uploaded_at.desc()).limit(limit)).all()
        return [{"batch_id": b.batch_id, "kind": b.kind, "file": b.original_name, "by": b.uploaded_by,
                 "at": b.uploaded_at.isoformat(timespec="seconds"), "status": b.status, "rows": b.rows_total,
                 "loaded": b.rows_loaded, "rejected": b.rows_rejected, "replaces": b.replaces,
                 "retrain": b.retrain_flagged} for b in rows]


def handle_api_upload(ctx: AppContext, principal: Principal, req: UploadRequest, ip: str | None = None) -> dict:
    """POST /api/v1/uploads: stage, then commit in one step (file-level problems are rejections, not errors)."""
    max_bytes = int(ctx.conf.get("uploads.max_bytes"))
    data = req.data if req.data is not None else read_limited(req.stream, max_bytes)
    rate = req.max_error_rate if req.max_error_rate is not None else float(ctx.options.get("upload_max_error_rate"))
    staged = stage(ctx, principal, req.kind, req.filename, data)
    try:
        parse(ctx, staged, req.shape)
    except (FileRejected, ReshapeError) as exc:
        reason = f"{exc.rule}: {exc.reason}" if isinstance(exc, FileRejected) else str(exc)
        audit.record(ctx.db, principal.username, "upload.rejected", None, success=False, ip=ip, kind=req.kind,
                     file=req.filename[:300], reason=reason[:300])
        return {"accepted": False, "batch_id": None, "kind": req.kind, "reason": reason,
                "totals": {"rows": 0, "rows_written": 0}, "errors": [], "mapping": {}, "ignored_columns": [],
                "retrain_flagged": False}
    return commit(ctx, principal, staged, mapping=req.mapping, shape=req.shape, on_duplicate=req.on_duplicate,
                  max_error_rate=rate, ip=ip)
