"""Readers for generated landing files, shared by the generator tests."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from openpyxl import load_workbook


def header(path: Path) -> list[str]:
    """Column names of a landing file in any of the generator's formats."""
    if path.suffix == ".csv":
        return path.read_text(encoding="utf-8").split("\n", 1)[0].split(",")
    if path.suffix == ".json":
        text = path.read_text(encoding="utf-8")
        first = json.loads(text)[0] if text.lstrip().startswith("[") else json.loads(text.split("\n", 1)[0])
        return list(first)
    if path.suffix == ".parquet":
        return pq.read_schema(path).names
    if path.suffix == ".xlsx":
        ws = load_workbook(path, read_only=True).active
        return [c for c in next(ws.iter_rows(values_only=True))]
    raise AssertionError(f"unexpected file type {path}")


def records(path: Path) -> list[dict[str, Any]]:
    """Rows of a landing file as dicts of raw values (empty CSV fields become None)."""
    if path.suffix == ".csv":
        reader = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))
        return [{k: (v if v != "" else None) for k, v in row.items()} for row in reader]
    if path.suffix == ".json":
        text = path.read_text(encoding="utf-8")
        if text.lstrip().startswith("["):
            return json.loads(text)
        return [json.loads(line) for line in text.splitlines() if line]
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    ws = load_workbook(path, read_only=True).active
    rows = list(ws.iter_rows(values_only=True))
    width = len(rows[0])  # trailing empty cells are not stored in the sheet
    return [dict(zip(rows[0], (*r, *[None] * (width - len(r))), strict=True)) for r in rows[1:]]


def csv_rows(path: Path) -> list[list[str]]:
    """Data rows of a CSV file as field lists (quotes honoured, no header)."""
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))[1:]


def raw_lines(path: Path) -> list[str]:
    """Data lines of a CSV file exactly as written (no header)."""
    return path.read_text(encoding="utf-8").split("\n")[1:-1]
