"""The file registry ops.ingested_files: which landing files (path + sha256) were taken, so each is taken once."""

from __future__ import annotations

import hashlib
from dataclasses import astuple, dataclass
from datetime import datetime
from pathlib import Path

from pyspark.sql import functions as F

from bakery.lakehouse import Lakehouse, struct_type
from bakery.tables import INGESTED_FILES

INGESTED_FILES_SCHEMA = struct_type(INGESTED_FILES)

FileKey = tuple[str, str]  # (source_file, file_hash)


@dataclass
class FileRecord:
    """One row of ops.ingested_files; status is 'ingested' or 'rejected'."""

    source: str
    source_file: str
    file_hash: str
    size_bytes: int
    rows: int | None
    status: str
    reason: str | None
    batch_id: str
    ingested_at: datetime


def sha256_file(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def taken_files(lh: Lakehouse) -> set[FileKey]:
    """Every (source_file, file_hash) already recorded, ingested or rejected."""
    if not lh.exists(*INGESTED_FILES):
        return set()
    taken = lh.read_arrow(*INGESTED_FILES, columns=["source_file", "file_hash"])
    return set(zip(taken["source_file"].to_pylist(), taken["file_hash"].to_pylist(), strict=True))


def found_in_bronze(lh: Lakehouse, table: str, candidates: list[FileKey]) -> dict[FileKey, int]:
    """Candidates whose rows are already in bronze (committed before a crash lost their record): key -> rows."""
    if not candidates or not lh.exists("bronze", table):
        return {}
    hashes = sorted({h for _, h in candidates})
    rows = (
        lh.read("bronze", table)
        .where(F.col("_file_hash").isin(hashes))
        .groupBy("_source_file", "_file_hash")
        .count()
        .collect()
    )
    wanted = set(candidates)
    return {
        (r["_source_file"], r["_file_hash"]): int(r["count"])
        for r in rows
        if (r["_source_file"], r["_file_hash"]) in wanted
    }


def record_files(lh: Lakehouse, records: list[FileRecord]) -> None:
    """Add the batch's records in one commit (the caller only passes keys not recorded before)."""
    if records:
        rows = [astuple(r)[:-1] + (r.ingested_at.replace(tzinfo=None),) for r in records]
        lh.append(lh.spark.createDataFrame(rows, INGESTED_FILES_SCHEMA), *INGESTED_FILES)
