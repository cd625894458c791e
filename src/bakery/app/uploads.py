"""The upload module: staging, auto-mapping, preview, dry-run validation, commit as a batch,
soft delete / replace, retraining flag. Validation and landing are bakery.ingest's, shared with `bakery import`.

Flow: a file is staged under <home>/app/staging/<token>/ as `upload.<ext>` whatever the user called it (the
name is metadata in meta.json, so no upload can pose as meta.json or bad_rows.csv); reading, mapping and
preview use the ingest readers and `map_columns`; "validate" runs `validate_raw` with the stored keys
(nothing written but a bad-rows CSV in staging); "load" runs `import_file`, which validates again and lands
the good rows as landing/<kind>/import_*.parquet only when the error rate is within the threshold. Every
accepted upload is a batch: a row in the app database, a copy of the original under
<home>/app/uploads/<batch_id>/, and an event in ops.upload_batches (batch_id, source_file, status). From the
next ETL run on, silver leaves out the rows of deleted or replaced batches and takes out those it already
holds (bakery.silver.retired). A replacement is a new batch of the same kind as the accepted batch it
replaces; rows stored from that batch do not count as duplicates when it is loaded.

A batch is recorded and landed, or neither: the rows land under a hidden name the pipeline skips, the batch
is written to the app database and then to ops.upload_batches (the database change is undone if the log
cannot be written), and only then is the file renamed into place. A deletion is written the same way and
reported as done only once both records hold. `settle` finishes what a crash interrupted: a held file whose
batch is recorded in both places goes into place, one without a record is removed, and ops.upload_batches
catches up with the database (only for what is older than uploads.settle_after_seconds; younger is a commit in
progress, which another worker's settle must not land while its record may still be taken back).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import re
import secrets
import shutil
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pandas as pd
from sqlalchemy import select
from werkzeug.exceptions import Forbidden

from bakery.app import audit
from bakery.app.auth import STAFF, Principal
from bakery.app.context import AppContext
from bakery.app.db import UploadBatch
from bakery.faults import fault_point
from bakery.ingest.landing import landing_relpath
from bakery.ingest.limits import IngestLimits, ingest_limits
from bakery.ingest.readers import FileRejected, RawTable, file_format, read_bytes
from bakery.ingest.reshape import ReshapeError, reshape_raw
from bakery.ops import upload_batches
from bakery.ops.retrain import request_retrain
from bakery.tables import DAILY_SALES

log = logging.getLogger(__name__)

ACCEPTED_SUFFIXES = (".csv", ".txt", ".xlsx", ".json", ".jsonl", ".ndjson", ".parquet")
STAGING_MAX_AGE = 24 * 3600
STAGED_STEM = "upload"  # the user's file in staging is upload<.ext>; its own name is only metadata
RETIRED = ("deleted", "replaced")


class UploadTooLarge(Exception):
    """The file is larger than uploads.max_bytes (HTTP 413)."""


class RecordFailed(Exception):
    """A batch's record (app database or ops.upload_batches) could not be written; nothing was changed.
    `recorded`: the app database change could not be taken back either (settle() completes it later)."""

    def __init__(self, message: str, recorded: bool = False) -> None:
        super().__init__(message)
        self.recorded = recorded


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


def upload_limits(ctx: AppContext) -> IngestLimits:
    """The ingest limits (rows, decoded bytes, zip members: checked before a file is decoded), tightened by the
    app's own uploads.max_rows and uploads.max_uncompressed_bytes."""
    limits = ingest_limits(ctx.settings)
    return replace(
        limits,
        max_rows=min(limits.max_rows, int(ctx.conf.get("uploads.max_rows", limits.max_rows))),
        max_decoded_bytes=min(
            limits.max_decoded_bytes,
            int(ctx.conf.get("uploads.max_uncompressed_bytes", limits.max_decoded_bytes)),
        ),
    )


def staged_name(original: str) -> str:
    """The fixed name a file is staged under: upload<.ext> for an accepted suffix, else plain `upload`."""
    suffix = Path(original.replace("\\", "/")).suffix.lower()
    return STAGED_STEM + (suffix if suffix in ACCEPTED_SUFFIXES else "")


def _check_suffix(name: str) -> None:
    if Path(name).suffix.lower() not in ACCEPTED_SUFFIXES:
        raise FileRejected(
            "file:unsupported_format",
            f"unsupported file type {Path(name).suffix or '(none)'!r}; use CSV, XLSX, JSON or Parquet",
        )


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
        raise UploadTooLarge(
            f"the file is larger than the {int(ctx.conf.get('uploads.max_bytes')) // 2**20} MiB limit"
        )
    root = staging_root(ctx)
    _clean_staging(root)
    token = secrets.token_urlsafe(16)
    folder = root / token
    folder.mkdir(parents=True)
    meta = {
        "kind": kind,
        "original_name": filename[:300],
        "owner": principal.username,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }
    path = folder / staged_name(meta["original_name"])
    path.write_bytes(data)
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return Staged(token, kind, meta["original_name"], path, len(data), meta["sha256"], principal.username)


def load_staged(ctx: AppContext, principal: Principal, token: str | None) -> Staged:
    """The staged file for `token`, only for the user who staged it (403 for anyone else)."""
    if not token or not re.fullmatch(r"[A-Za-z0-9_-]{10,64}", token):
        raise Forbidden("unknown upload")
    folder = staging_root(ctx) / token
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        owner, path = meta["owner"], folder / staged_name(meta["original_name"])
    except (FileNotFoundError, json.JSONDecodeError, KeyError, TypeError):
        raise Forbidden("unknown or expired upload") from None
    if owner != principal.username:
        raise Forbidden("this upload belongs to another user")
    if not path.is_file():
        raise Forbidden("unknown or expired upload")
    return Staged(
        token, meta["kind"], meta["original_name"], path, meta["size"], meta["sha256"], meta["owner"]
    )


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
    raw = read_bytes(
        staged.path.read_bytes(), file_format(staged.path), exact=True, limits=upload_limits(ctx)
    )
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
    return [
        {"row": int(idx), **{c: (r.get(mapping[c]) if c in mapping else None) for c in columns}}
        for idx, r in zip(frame.index, frame.to_dict("records"), strict=True)
    ]


def validate(
    ctx: AppContext,
    staged: Staged,
    raw: RawTable,
    mapping: dict[str, Any] | None,
    on_duplicate: str,
    replaces: str | None = None,
):
    """A dry run of the import validation (same function, same stored keys as commit, so the rows of the
    batch it would replace are not duplicates); writes only the bad-rows CSV. ValueError names `replaces`
    when it is no accepted batch of the same kind."""
    from bakery.ingest.importer import _write_bad_rows, store_timezones, stored_keys
    from bakery.ingest.mapping import load_synonyms
    from bakery.ingest.validate import validate_raw

    spec = ctx.settings.source(staged.kind)
    replaced = check_replaces(ctx, staged.kind, replaces)
    report = validate_raw(
        raw,
        spec,
        mapping,
        synonyms=load_synonyms(ctx.settings),
        existing_keys=stored_keys(ctx.settings, spec, _landing_files(replaced)),
        store_timezones=store_timezones(ctx.settings),
        on_duplicate=on_duplicate,
    )
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


def _log_batches(ctx: AppContext, batches: list[UploadBatch]) -> None:
    """Events in ops.upload_batches (latest row per batch_id = its status), for the pipeline: one append, so a
    replacement and the batch it retires are logged together. RecordFailed when it cannot be written."""
    now = pd.Timestamp(datetime.now(UTC))
    rows = pd.DataFrame(
        [
            {
                "batch_id": b.batch_id,
                "kind": b.kind,
                "source_file": b.path,
                "original_name": b.original_name,
                "file_hash": b.file_hash,
                "uploaded_by": b.uploaded_by,
                "status": b.status,
                "rows_loaded": int(b.rows_loaded or 0),
                "replaces": b.replaces,
                "changed_at": now,
            }
            for b in batches
        ]
    )
    try:
        upload_batches.append_events(ctx.serving.reader, rows)
    except Exception as exc:
        log.exception("could not append to ops.upload_batches for %s", ", ".join(b.batch_id for b in batches))
        raise RecordFailed(
            "the upload log (ops.upload_batches) could not be written; nothing was changed, try again later"
        ) from exc


def check_replaces(ctx: AppContext, kind: str, replaces: Any) -> UploadBatch | None:
    """The batch an upload of `kind` replaces: an accepted batch of the same kind (ValueError naming
    `replaces` otherwise), checked before anything is written."""
    if replaces is None or replaces == "":
        return None
    if not isinstance(replaces, str) or len(replaces) > 64:
        raise ValueError("replaces: expected the id of an accepted batch")
    with ctx.db.session() as s:
        return _replaceable(s.get(UploadBatch, replaces), kind, replaces)


def _replaceable(b: UploadBatch | None, kind: str, batch_id: str) -> UploadBatch:
    if b is None or b.status != "accepted":
        raise ValueError(
            f"replaces: {batch_id!r} is not an accepted batch (unknown, deleted or already replaced)"
        )
    if b.kind != kind:
        raise ValueError(
            f"replaces: batch {batch_id} holds {b.kind} data; a {kind} upload can replace only a {kind} batch"
        )
    return b


def _landing_files(batch: UploadBatch | None) -> list[str]:
    """The landing file of the batch being replaced: its rows for the same keys are not stored duplicates."""
    return [batch.path] if batch is not None and batch.path else []


@dataclass(frozen=True)
class _Retirement:
    """A batch to mark deleted or replaced; a replacement's kind must be the retired batch's."""

    batch_id: str
    status: str
    by: str
    kind: str | None = None
    replaced_by: str | None = None


def _set_status(b: UploadBatch, status: str, by: str | None = None, replaced_by: str | None = None) -> None:
    retired = status in RETIRED
    b.status, b.replaced_by = status, replaced_by
    b.deleted_at, b.deleted_by = (datetime.now(UTC), by) if retired else (None, None)


def _record(ctx: AppContext, new: UploadBatch | None, retire: _Retirement | None) -> UploadBatch | None:
    """Write a new accepted batch and/or a retirement to the app database, then to ops.upload_batches. When
    the log cannot be written the database change is undone and RecordFailed raised. Returns the retired
    batch."""
    old = None
    with ctx.db.serialized("upload_batches") as s:
        if retire is not None:
            if not isinstance(retire.batch_id, str) or not retire.batch_id:
                raise ValueError("batch: choose an accepted batch")
            old = s.get(UploadBatch, retire.batch_id)
            if retire.kind is not None:
                _replaceable(old, retire.kind, retire.batch_id)
            elif old is None or old.status != "accepted":
                raise ValueError(f"batch {retire.batch_id[:64]!r}: no accepted batch with this id")
            _set_status(old, retire.status, retire.by, retire.replaced_by)
        if new is not None:
            s.add(new)
    try:
        fault_point("upload_before_log")
        _log_batches(ctx, [b for b in (new, old) if b is not None])
    except RecordFailed as exc:
        exc.recorded = not _undo(ctx, new, old, logged=False)
        raise
    return old


def _undo(ctx: AppContext, new: UploadBatch | None, old: UploadBatch | None, logged: bool) -> bool:
    """Take back a record: the new batch's row goes, the retired batch is accepted again (and, if the change
    reached ops.upload_batches, logged so). False when the database could not be restored."""
    try:
        with ctx.db.serialized("upload_batches") as s:
            if new is not None and (row := s.get(UploadBatch, new.batch_id)) is not None:
                s.delete(row)
            if old is not None and (row := s.get(UploadBatch, old.batch_id)) is not None:
                _set_status(row, "accepted")
                _set_status(old, "accepted")
    except Exception:
        log.exception(
            "could not undo the record of upload batch %s",
            ", ".join(b.batch_id for b in (new, old) if b is not None),
        )
        return False
    if logged and old is not None:
        with contextlib.suppress(RecordFailed):  # else settle() brings the log in line later
            _log_batches(ctx, [old])
    return True


def _held_to_final(held: Path) -> Path:
    return held.with_name(held.name.removeprefix("."))


def _land(held: Path, final: Path) -> None:
    """Rename a held landing file into place (done already, by `settle` in another worker, is fine too)."""
    try:
        os.replace(held, final)
    except FileNotFoundError:
        if not final.exists():
            raise


def _history_days(ctx: AppContext, kind: str, rows: pd.DataFrame) -> int:
    """How many store x product x day observations an upload adds (for the retraining rule)."""
    if kind == "sales":
        return len(rows)
    if kind == "pos" and len(rows):
        return int(
            rows.assign(d=rows["timestamp"].str[:10])
            .drop_duplicates(["d", "store_id", "product_id"])
            .shape[0]
        )
    return 0


def _keep_original(
    ctx: AppContext,
    keep: Path,
    staged: Staged,
    batch: UploadBatch,
    bad_rows: Path | None,
    report: dict[str, Any],
) -> None:
    """The batch's own folder: the original file, its bad rows and batch.json."""
    keep.mkdir(parents=True, exist_ok=True)
    shutil.copy2(staged.path, keep / f"original{staged.path.suffix}")
    if bad_rows:
        shutil.copy2(bad_rows, keep / "bad_rows.csv")
    (keep / "batch.json").write_text(
        json.dumps(
            {
                "batch_id": batch.batch_id,
                "kind": batch.kind,
                "original_name": batch.original_name,
                "uploaded_by": batch.uploaded_by,
                "uploaded_at": datetime.now(UTC).isoformat(),
                "landing_file": batch.path,
                "replaces": batch.replaces,
                "validation": report,
            },
            indent=2,
            default=str,
        ),
        encoding="utf-8",
    )


def commit(
    ctx: AppContext,
    principal: Principal,
    staged: Staged,
    *,
    mapping: dict[str, Any] | None,
    shape: dict[str, Any] | None,
    on_duplicate: str,
    max_error_rate: float,
    replaces: str | None = None,
    ip: str | None = None,
) -> dict[str, Any]:
    """Validate and, if within the threshold, land the rows as a new batch; returns the report as a dict.
    ValueError (naming `replaces`) before anything is written, RecordFailed when the batch could not be
    recorded (then nothing is landed)."""
    from bakery.ingest.importer import import_file

    if principal.role not in STAFF:
        raise Forbidden("only analysts and admins may load data")
    replaced = check_replaces(ctx, staged.kind, replaces)
    settle(ctx)
    source = staged.path
    raw = parse(ctx, staged, shape)  # size, zip-bomb and row-count guards before the importer opens the file
    if shape:
        source = staged.path.parent / "reshaped.csv"
        raw.frame().to_csv(source, index=False)
    result = import_file(
        ctx.settings,
        staged.kind,
        source,
        mapping=mapping,
        on_duplicate=on_duplicate,
        max_error_rate=max_error_rate,
        replaces_files=_landing_files(replaced),
        hold=True,
    )
    report = json.loads(result.report_path.read_text(encoding="utf-8"))
    batch_id = _new_batch_id()
    held = result.landing_path
    final = _held_to_final(held) if held else None
    batch = UploadBatch(
        batch_id=batch_id,
        kind=staged.kind,
        original_name=staged.original_name,
        file_hash=staged.sha256,
        uploaded_by=principal.username,
        status="accepted" if result.accepted else "rejected",
        rows_total=int(result.totals.get("rows", 0)),
        rows_loaded=int(result.totals.get("rows_written", 0)),
        rows_rejected=int(result.totals.get("invalid_rows", 0)),
        rows_duplicate=int(result.totals.get("skipped_duplicates", 0)),
        on_duplicate=on_duplicate,
        max_error_rate=max_error_rate,
        replaces=replaces or None,
        path=landing_relpath(ctx.settings, final) if final else None,
        report=json.dumps(
            {
                k: report.get(k)
                for k in ("reason", "totals", "mapping", "fatal", "ignored_columns", "bad_rows_csv")
            }
        ),
    )
    retired = None
    if result.accepted:
        retired = _record_and_land(ctx, principal, staged, batch, held, final, result.bad_rows_path, report)
    else:
        with ctx.db.session() as s:
            s.add(batch)
    audit.record(
        ctx.db,
        principal.username,
        "upload.accepted" if result.accepted else "upload.rejected",
        batch_id,
        success=result.accepted,
        ip=ip,
        kind=staged.kind,
        file=staged.original_name,
        rows=batch.rows_total,
        loaded=batch.rows_loaded,
        rejected=batch.rows_rejected,
        reason=result.reason[:300],
        replaces=replaces or None,
    )
    flagged = False
    if result.accepted:
        if retired is not None:
            _after_retire(ctx, principal, retired, ip)
        flagged = _maybe_flag_retrain(ctx, principal, staged.kind, batch_id, final)
        if flagged:
            with ctx.db.session() as s:
                s.get(UploadBatch, batch_id).retrain_flagged = True
    return {
        "accepted": result.accepted,
        "batch_id": batch_id if result.accepted else None,
        "kind": staged.kind,
        "reason": result.reason,
        "totals": result.totals,
        "errors": (report.get("errors") or [])[:1000],
        "mapping": report.get("mapping") or {},
        "ignored_columns": report.get("ignored_columns") or [],
        "retrain_flagged": flagged,
    }


def _record_and_land(
    ctx: AppContext,
    principal: Principal,
    staged: Staged,
    batch: UploadBatch,
    held: Path | None,
    final: Path | None,
    bad_rows: Path | None,
    report: dict[str, Any],
) -> UploadBatch | None:
    """Keep the original, record the batch (and the retirement of the one it replaces), then rename the held
    landing file into place; on any failure take back what was done. Returns the replaced batch."""
    keep = ctx.conf.uploads_dir / batch.batch_id
    retire = (
        _Retirement(batch.replaces, "replaced", principal.username, batch.kind, batch.batch_id)
        if batch.replaces
        else None
    )
    try:
        _keep_original(ctx, keep, staged, batch, bad_rows, report)
        fault_point("upload_before_record")
        retired = _record(ctx, batch, retire)
    except Exception as exc:
        if not getattr(exc, "recorded", False):
            _discard(held, keep)
        raise
    try:
        fault_point("upload_before_landing")
        if held is not None and final is not None:
            _land(held, final)
    except OSError as exc:
        undone = _undo(ctx, batch, retired, logged=True)
        if undone:
            _discard(held, keep)
        raise RecordFailed(
            "the rows could not be moved into the landing zone; nothing was loaded", recorded=not undone
        ) from exc
    return retired


def _discard(held: Path | None, keep: Path) -> None:
    """What an unrecorded batch left: its held landing file and its folder."""
    if held is not None:
        held.unlink(missing_ok=True)
    shutil.rmtree(keep, ignore_errors=True)


def _maybe_flag_retrain(
    ctx: AppContext, principal: Principal, kind: str, batch_id: str, landed: Path | None
) -> bool:
    """Flag retraining when an upload adds more than `retrain_fraction` of the stored history."""
    if kind not in ("sales", "pos") or landed is None:
        return False
    added = _history_days(ctx, kind, pd.read_parquet(landed))
    history = ctx.serving.row_count(DAILY_SALES)
    fraction = float(ctx.options.get("retrain_fraction"))
    if added > fraction * history:
        request_retrain(
            ctx.settings,
            principal.username,
            f"upload {batch_id} adds {added} observations to {history} stored ({kind})",
            batch_id=batch_id,
        )
        return True
    return False


def _after_retire(ctx: AppContext, principal: Principal, b: UploadBatch, ip: str | None) -> None:
    """Once a retirement is recorded: its landing file moves out of the landing zone (the pipeline leaves its
    rows out either way), retraining is flagged and the change audited."""
    if b.path:
        landed = ctx.settings.landing_dir / b.path
        try:
            if landed.exists():
                target = ctx.conf.uploads_dir / b.batch_id / "landed.parquet"
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(landed), target)
        except OSError:
            log.exception("could not move %s out of the landing zone (its rows are left out anyway)", landed)
    request_retrain(
        ctx.settings, principal.username, f"upload batch {b.batch_id} {b.status}", batch_id=b.batch_id
    )
    _mark_retrain(ctx, b.batch_id)
    b.retrain_flagged = True
    audit.record(
        ctx.db,
        principal.username,
        f"upload.{b.status}",
        b.batch_id,
        ip=ip,
        kind=b.kind,
        file=b.original_name,
        replaced_by=b.replaced_by,
    )


def soft_delete(ctx: AppContext, principal: Principal, batch_id: str, ip: str | None = None) -> UploadBatch:
    """Delete a batch (it stays on record): reported done only once the app database and ops.upload_batches
    both hold it (RecordFailed, nothing changed, otherwise); silver leaves its rows out from the next run."""
    if principal.role not in STAFF:
        raise Forbidden("only analysts and admins may delete batches")
    settle(ctx)
    b = _record(ctx, None, _Retirement(batch_id, "deleted", principal.username))
    if b is None:  # unreachable: a retirement always names its batch
        raise ValueError(f"batch {batch_id!r}: no accepted batch with this id")
    _after_retire(ctx, principal, b, ip)
    return b


def _mark_retrain(ctx: AppContext, batch_id: str) -> None:
    """Record on the batch that its change asked for retraining (the batch list shows it)."""
    with ctx.db.session() as s:
        row = s.get(UploadBatch, batch_id)
        if row is not None:
            row.retrain_flagged = True


def kept_rows(ctx: AppContext, b: UploadBatch) -> Path | None:
    """Where the rows of a retired batch are kept: moved out of the landing zone on retirement, or still in
    it when that move failed. None when neither holds them (nothing to restore from)."""
    moved = ctx.conf.uploads_dir / b.batch_id / "landed.parquet"
    if moved.is_file():
        return moved
    landed = ctx.settings.landing_dir / b.path if b.path else None
    return landed if landed is not None and landed.is_file() else None


def restore(ctx: AppContext, principal: Principal, batch_id: str, ip: str | None = None) -> UploadBatch:
    """Bring back a deleted batch's rows as a new accepted batch with its own landing file.

    The deleted batch stays deleted for the pipeline (silver has taken, or will take, its file's rows out, and
    a retired file is never taken again), so its kept rows land again under a new name, which bronze takes
    like any new upload. The deleted batch records the new one in `replaced_by` (shown as restored), so it
    cannot be restored twice. ValueError names the batch when it is not a deleted, not yet restored batch
    with its rows kept; RecordFailed when the new batch could not be recorded (nothing landed then)."""
    if principal.role not in STAFF:
        raise Forbidden("only analysts and admins may restore batches")
    if not isinstance(batch_id, str) or not batch_id or len(batch_id) > 64:
        raise ValueError("batch: choose a deleted batch")
    settle(ctx)
    new_id = _new_batch_id()
    with ctx.db.serialized("upload_batches") as s:  # checked and reserved at once: restored only once
        old = s.get(UploadBatch, batch_id)
        if old is None or old.status != "deleted" or old.replaced_by:
            raise ValueError(f"batch {batch_id!r}: not a deleted batch that can be restored")
        source = kept_rows(ctx, old)
        if source is None:
            raise ValueError(f"batch {batch_id!r}: its rows are no longer kept, upload the file again")
        old.replaced_by = new_id
        s.flush()
        s.expunge(old)
    try:
        return _restore_as(ctx, principal, old, source, new_id, ip)
    except BaseException:
        with ctx.db.serialized("upload_batches") as s:
            if (row := s.get(UploadBatch, batch_id)) is not None and row.replaced_by == new_id:
                row.replaced_by = None
        raise


def _restore_as(
    ctx: AppContext, principal: Principal, old: UploadBatch, source: Path, new_id: str, ip: str | None
) -> UploadBatch:
    """Land a deleted batch's kept rows as the new batch `new_id` (see `restore`)."""
    batch_id = old.batch_id
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    final = ctx.settings.landing_dir / old.kind / f"import_{stamp}_restored_{old.batch_id}.parquet"
    held = final.with_name("." + final.name)
    held.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, held)
    batch = UploadBatch(
        batch_id=new_id,
        kind=old.kind,
        original_name=old.original_name,
        file_hash=old.file_hash,
        uploaded_by=principal.username,
        status="accepted",
        rows_total=old.rows_total,
        rows_loaded=old.rows_loaded,
        rows_rejected=old.rows_rejected,
        rows_duplicate=old.rows_duplicate,
        on_duplicate=old.on_duplicate,
        max_error_rate=old.max_error_rate,
        path=landing_relpath(ctx.settings, final),
        report=json.dumps({**old.report_dict(), "restored_from": old.batch_id}),
        retrain_flagged=True,
    )
    keep = ctx.conf.uploads_dir / new_id
    try:
        keep.mkdir(parents=True, exist_ok=True)
        (keep / "batch.json").write_text(
            json.dumps({"batch_id": new_id, "restored_from": old.batch_id, "landing_file": batch.path}),
            encoding="utf-8",
        )
        _record(ctx, batch, None)
    except Exception as exc:
        if not getattr(exc, "recorded", False):
            _discard(held, keep)
        raise
    try:
        _land(held, final)
    except OSError as exc:
        undone = _undo(ctx, batch, None, logged=True)
        if undone:
            _discard(held, keep)
        raise RecordFailed(
            "the rows could not be moved into the landing zone; nothing was restored", recorded=not undone
        ) from exc
    request_retrain(
        ctx.settings, principal.username, f"upload batch {batch_id} restored as {new_id}", batch_id=new_id
    )
    audit.record(
        ctx.db, principal.username, "upload.restored", new_id, ip=ip, kind=old.kind, restored_from=batch_id
    )
    return batch


def settle(ctx: AppContext) -> None:
    """Finish or undo what a crash left half done (see the module doc); never raises."""
    cutoff = time.time() - float(ctx.conf.get("uploads.settle_after_seconds", 3600))
    try:
        with ctx.db.session() as s:
            batches = s.scalars(select(UploadBatch)).all()
        accepted = {b.path: b.batch_id for b in batches if b.status == "accepted" and b.path}
        logged: dict[str, str] | None = None
        landed: set[str] = set()
        for kind in ctx.conf.get("uploads.kinds", []):
            folder = ctx.settings.landing_dir / kind
            for held in sorted(folder.glob(".import_*.parquet")) if folder.is_dir() else []:
                final = _held_to_final(held)
                batch_id = accepted.get(landing_relpath(ctx.settings, final))
                try:
                    young = held.stat().st_mtime >= cutoff
                except FileNotFoundError:  # landed or removed by its own request meanwhile
                    continue
                if batch_id is not None:
                    if young:  # recorded in the database only: its commit may still be undone
                        logged = (
                            upload_batches.latest_statuses(ctx.serving.reader) if logged is None else logged
                        )
                        if logged.get(batch_id) != "accepted":
                            continue
                    _land(held, final)
                    landed.add(batch_id)
                    log.warning("upload: landed %s, recorded before an interruption", final.name)
                elif not young:
                    held.unlink(missing_ok=True)
                    log.warning("upload: removed %s, whose batch was never recorded", held.name)
        ids = {b.batch_id for b in batches}
        root = ctx.conf.uploads_dir
        for keep in root.iterdir() if root.is_dir() else []:
            if keep.name not in ids and keep.stat().st_mtime < cutoff:
                shutil.rmtree(keep, ignore_errors=True)
        settled = [
            b for b in batches if b.status != "rejected" and (_changed(b) < cutoff or b.batch_id in landed)
        ]
        _catch_up_log(ctx, settled)
    except Exception:
        log.exception("settling interrupted uploads failed; will try again")


def _changed(b: UploadBatch) -> float:
    when = b.deleted_at or b.uploaded_at
    return when.timestamp() if when else 0.0


def _catch_up_log(ctx: AppContext, batches: list[UploadBatch]) -> None:
    """Log the batches whose latest ops.upload_batches status is not the app database's."""
    if not batches:
        return
    logged = upload_batches.latest_statuses(ctx.serving.reader)
    behind = [b for b in batches if logged.get(b.batch_id) != b.status]
    if behind:
        _log_batches(ctx, behind)
        log.warning("upload: logged %d batch status(es) missing from ops.upload_batches", len(behind))


def list_batches(ctx: AppContext, limit: int = 200) -> list[dict[str, Any]]:
    with ctx.db.session() as s:
        rows = s.scalars(select(UploadBatch).order_by(UploadBatch.uploaded_at.desc()).limit(limit)).all()
        return [
            {
                "batch_id": b.batch_id,
                "kind": b.kind,
                "file": b.original_name,
                "by": b.uploaded_by,
                "at": b.uploaded_at.isoformat(timespec="seconds"),
                "status": b.status,
                "rows": b.rows_total,
                "loaded": b.rows_loaded,
                "rejected": b.rows_rejected,
                "replaces": b.replaces,
                "replaced_by": b.replaced_by,
                "restorable": b.status == "deleted" and not b.replaced_by,
                "retrain": b.retrain_flagged,
            }
            for b in rows
        ]


def handle_api_upload(
    ctx: AppContext, principal: Principal, req: UploadRequest, ip: str | None = None
) -> dict:
    """POST /api/v1/uploads: stage, then commit in one step (file-level problems are rejections, not errors)."""
    max_bytes = int(ctx.conf.get("uploads.max_bytes"))
    data = req.data if req.data is not None else read_limited(req.stream, max_bytes)
    rate = (
        req.max_error_rate
        if req.max_error_rate is not None
        else float(ctx.options.get("upload_max_error_rate"))
    )
    staged = stage(ctx, principal, req.kind, req.filename, data)
    try:
        parse(ctx, staged, req.shape)
    except (FileRejected, ReshapeError) as exc:
        reason = f"{exc.rule}: {exc.reason}" if isinstance(exc, FileRejected) else str(exc)
        audit.record(
            ctx.db,
            principal.username,
            "upload.rejected",
            None,
            success=False,
            ip=ip,
            kind=req.kind,
            file=req.filename[:300],
            reason=reason[:300],
        )
        return {
            "accepted": False,
            "batch_id": None,
            "kind": req.kind,
            "reason": reason,
            "totals": {"rows": 0, "rows_written": 0},
            "errors": [],
            "mapping": {},
            "ignored_columns": [],
            "retrain_flagged": False,
        }
    return commit(
        ctx,
        principal,
        staged,
        mapping=req.mapping,
        shape=req.shape,
        on_duplicate=req.on_duplicate,
        max_error_rate=rate,
        ip=ip,
    )
