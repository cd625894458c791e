"""One person in the home's files: the retrain flag, the log files, upload originals and landing files.

Text files (CSV, JSON, logs) are searched line by line and Parquet files value by value; XLSX workbooks are not
searched (docs/privacy.md says what to do with them). Erasure replaces the person in the retrain flag (under
the lock the app and the pipeline take) and in the logs (in place: the app may hold a log open). An upload's
original that names them is removed, as retention would (the batch and its rows stay). A landing file already
ingested is removed (bronze keeps its rows, pseudonymised); a text one not ingested yet is rewritten, and any
other is left, named in the report, to erase once ingested.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bakery.app.appconf import AppConfig
from bakery.app.data_retention import purge_original, upload_originals
from bakery.app.privacy import Matcher
from bakery.config import Settings
from bakery.ingest.landing import landing_relpath, write_atomically
from bakery.ingest.registry import sha256_file
from bakery.ops.retrain import read_retrain_flag, update_retrain_flag

log = logging.getLogger(__name__)

TEXT_SUFFIXES = (".csv", ".txt", ".json", ".jsonl", ".ndjson", ".log")
_BATCH_ROWS = 65536


# ---- the retrain flag --------------------------------------------------------------------------------------
def retrain_requests(settings: Settings, m: Matcher) -> list[dict[str, Any]]:
    return [r for r in (read_retrain_flag(settings) or {}).get("reasons", []) if m.mentions(r)]


def erase_retrain_requests(settings: Settings, m: Matcher, pseudonym: str) -> int:
    """The person replaced in the retrain flag; returns how many requests named them."""
    named: list[int] = []

    def change(flag: dict[str, Any]) -> dict[str, Any] | None:
        if not m.mentions(flag):
            return None
        named.append(max(1, sum(m.mentions(r) for r in flag.get("reasons", []))))
        return m.replace(flag, pseudonym)

    update_retrain_flag(settings, change)
    return sum(named)


# ---- log files ----------------------------------------------------------------------------------------------
def _log_files(settings: Settings) -> list[Path]:
    root = settings.logs_dir
    return sorted(p for p in root.glob("*.log*") if p.is_file()) if root.is_dir() else []


def log_lines(settings: Settings, m: Matcher) -> list[dict[str, str]]:
    return [
        {"file": p.name, "line": line}
        for p in _log_files(settings)
        for line in p.read_text(encoding="utf-8", errors="replace").splitlines()
        if m.found_in_text(line)
    ]


def erase_log_lines(settings: Settings, m: Matcher, pseudonym: str) -> int:
    """Mentions replaced in place; returns how many lines changed."""
    changed = 0
    for path in _log_files(settings):
        with open(path, "r+b") as fh:
            lines = fh.read().decode("utf-8", "surrogateescape").splitlines(keepends=True)
            new = [m.replace_text(line, pseudonym) for line in lines]
            hits = sum(a != b for a, b in zip(lines, new, strict=True))
            if hits:
                fh.seek(0)
                fh.write("".join(new).encode("utf-8", "surrogateescape"))
                fh.truncate()
                changed += hits
    return changed


# ---- source files: upload originals and landing files ---------------------------------------------------------
def mentions_in_file(path: Path, m: Matcher) -> int:
    """How many lines (text) or values (Parquet) of a file mention the person; 0 for other formats."""
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return sum(m.found_in_text(line) for line in fh)
    if suffix != ".parquet":
        return 0
    hits = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=_BATCH_ROWS):
        for column in batch.columns:
            if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                hits += sum(m.found_in(v) for v in _candidates(column, m))
    return hits


def _candidates(values: pa.Array, m: Matcher) -> list[str]:
    """Values holding one of the forms anywhere (an Arrow pre-filter; the whole-word check is the caller's)."""
    near = None
    for form in m.forms:
        hit = pc.fill_null(pc.match_substring(values, form, ignore_case=True), False)
        near = hit if near is None else pc.or_(near, hit)
    return pc.filter(values, near).to_pylist() if near is not None else []


def _landing_files(settings: Settings) -> Iterator[Path]:
    """Every file under the landing zone, hidden folders (_late, _quarantine) included, staging excepted."""
    root = settings.landing_dir
    for path in sorted(root.rglob("*")) if root.is_dir() else []:
        if path.is_file() and "_staging" not in path.relative_to(root).parts[:1]:
            yield path


def source_files(
    settings: Settings, conf: AppConfig, m: Matcher, taken: set[tuple[str, str]]
) -> dict[str, list[dict[str, Any]]]:
    """Upload originals and landing files that mention the person; `taken`: (landing path, sha256) ingested."""
    originals = [
        {"file": f.relative_to(settings.home).as_posix(), "mentions": n}
        for folder in sorted(conf.uploads_dir.iterdir() if conf.uploads_dir.is_dir() else [])
        for f in upload_originals(folder)
        if (n := mentions_in_file(f, m))
    ]
    landing = [
        {
            "file": landing_relpath(settings, p),
            "mentions": n,
            "ingested": (landing_relpath(settings, p), sha256_file(p)) in taken,
        }
        for p in _landing_files(settings)
        if (n := mentions_in_file(p, m))
    ]
    return {"upload_originals": originals, "landing_files": landing}


def erase_source_files(
    settings: Settings, conf: AppConfig, m: Matcher, pseudonym: str, taken: set[tuple[str, str]]
) -> tuple[dict[str, int], list[str]]:
    """Counts per section, and the landing files left as they are (not ingested yet, not text)."""
    found = source_files(settings, conf, m, taken)
    folders = {(settings.home / f["file"]).parent for f in found["upload_originals"]}
    removed = sum(purge_original(folder) for folder in sorted(folders))
    left = []
    for f in found["landing_files"]:
        path = settings.landing_dir / f["file"]
        if f["ingested"]:
            path.unlink()
        elif path.suffix.lower() in TEXT_SUFFIXES:
            write_atomically(path, lambda tmp, src=path: _rewrite_text(src, tmp, m, pseudonym))
        else:
            left.append(f["file"])
    if left:
        log.warning(
            "gdpr: %d landing file(s) not ingested yet still name the person: ingest them, then erase again",
            len(left),
        )
    return {"upload_originals": removed, "landing_files": len(found["landing_files"]) - len(left)}, left


def _rewrite_text(source: Path, target: Path, m: Matcher, pseudonym: str) -> None:
    with (
        open(source, encoding="utf-8", errors="surrogateescape", newline="") as src,
        open(target, "w", encoding="utf-8", errors="surrogateescape", newline="") as out,
    ):
        for line in src:
            out.write(m.replace_text(line, pseudonym))
