"""Byte-exact, deterministic file writers for the landing zone (CSV, JSON, JSON lines, Parquet, XLSX)."""

from __future__ import annotations

import io
import json
import logging
import re
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

log = logging.getLogger(__name__)

FIXED_ZIP_TIME = (2020, 1, 1, 0, 0, 0)
FIXED_XML_TIME = "2020-01-01T00:00:00Z"


def csv_body(table: pa.Table) -> bytes:
    """Data rows of a table without header or quoting (values must not contain commas or quotes)."""
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    return buf.getvalue()


def csv_header(columns: list[str]) -> bytes:
    return (",".join(columns) + "\n").encode()


def csv_text(frame: pd.DataFrame) -> bytes:
    """A small table with free text (names): standard CSV quoting where a value needs it."""
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def json_lines(frame: pd.DataFrame) -> bytes:
    return frame.to_json(orient="records", lines=True, force_ascii=False).encode("utf-8")


def json_array(records: list[dict[str, Any]]) -> bytes:
    return (json.dumps(records, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def parquet_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="snappy")
    return buf.getvalue()


def xlsx_bytes(columns: list[str], rows: list[list[Any]], sheet: str) -> bytes:
    """One sheet with a header row; zip entry times and document dates are fixed so bytes are reproducible."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.append(columns)
    for row in rows:
        ws.append(row)
    raw = io.BytesIO()
    wb.save(raw)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src,
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>" + FIXED_XML_TIME.encode(), data
                )
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, data)
    return out.getvalue()


class LandingWriter:
    """Writes files under the output folder and keeps count of files and rows per source."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.files: list[Path] = []
        self.rows: Counter[str] = Counter()
        self._file_rows: dict[Path, int] = {}

    def write(self, relative: str, data: bytes, kind: str | None = None, rows: int = 0) -> Path:
        path = self.out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.files.append(path)
        if kind:
            self.rows[kind] += rows
        self._file_rows[path] = rows
        log.debug("wrote %s (%d bytes)", relative, len(data))
        return path

    def rows_of(self, path: Path) -> int:
        return self._file_rows[path]

    def relative(self, path: Path) -> str:
        return path.relative_to(self.out).as_posix()
