"""Read one landing file (CSV, JSON, Parquet or XLSX) into raw text rows, or reject the whole file with a reason.

Every value stays the text the file holds (empty -> null); nothing is typed here. Rows are numbered
1, 2, ... in file order, counting data rows only (no header, no blank lines). A row whose field count
differs from the header's is kept, marked malformed, with its raw text.

Text decoding: UTF-8 (a BOM is stripped); a file that is not valid UTF-8 but is valid Windows-1252 is
read as Windows-1252 (what Excel on Windows saves as "CSV"); anything else, a UTF-16/32 file, or a file
with NUL or other control bytes is rejected. CSV delimiter: the one of , ; TAB | that the header line
uses most (European Excel saves with ';').

Limits (bakery.ingest.limits, `ingest:` in conf/base.yml) are checked before a file is decoded wherever the
format says how big it is (Parquet metadata: rows, values and uncompressed bytes; the XLSX zip directory;
a CSV's line count), and again while it is read: Parquet in batches of `read_batch_rows`, with the text a
batch decodes to (dictionary-encoded strings included) counted before it is built; XLSX streamed row by row.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from bakery.ingest.limits import IngestLimits, ingest_limits

FORMATS = {
    ".csv": "csv",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
    ".parquet": "parquet",
    ".xlsx": "xlsx",
}
DELIMITERS = (",", ";", "\t", "|")
_ALLOWED_CONTROLS = (9, 10, 12, 13, 27)  # TAB LF FF CR ESC
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")
_UTF16_32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class FileRejected(Exception):
    """The whole file cannot be read: `rule` names the check (e.g. file:binary), `reason` says why."""

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(f"{rule}: {reason}")
        self.rule = rule
        self.reason = reason


@dataclass
class RawTable:
    """A file's rows as text: one string column per header column (c0, c1, ...) plus row bookkeeping.

    Rows may come out of file order (malformed ones last); `row_number` gives the order.
    """

    headers: list[str]
    data: pa.Table
    row_number: pa.Array
    malformed: pa.Array
    raw: pa.Array
    line: pa.Array
    fmt: str
    encoding: str | None = None

    @property
    def num_rows(self) -> int:
        return len(self.row_number)

    def column(self, index: int) -> pa.ChunkedArray:
        return self.data.column(index)

    def frame(self) -> pd.DataFrame:
        """The rows as a pandas frame of strings/None, columns named by header, indexed by row number."""
        index = pd.Index(self.row_number.to_pylist(), name="row")
        df = pd.DataFrame(
            {name: self.data.column(i).to_pylist() for i, name in enumerate(unique_names(self.headers))},
            index=index,
            dtype=object,
        )
        return df.sort_index()

    def malformed_series(self) -> pd.Series:
        """Why each malformed row could not be parsed, indexed by row number (only malformed rows)."""
        s = pd.Series(self.malformed.to_pylist(), index=self.row_number.to_pylist(), dtype=object)
        return s[s.notna()]

    def line_series(self) -> pd.Series:
        """The line (CSV) or sheet row (XLSX) each data row starts on, where known, indexed by row number."""
        return pd.Series(self.line.to_pylist(), index=self.row_number.to_pylist(), dtype=object)


def unique_names(headers: list[str]) -> list[str]:
    """Header names made unique and non-empty (`_c3` for an unnamed 3rd column, `x.2` for a repeated `x`)."""
    out: list[str] = []
    seen: set[str] = set()
    for i, h in enumerate(headers, start=1):
        name = h or f"_c{i}"
        candidate, k = name, 1
        while candidate in seen:
            k += 1
            candidate = f"{name}.{k}"
        seen.add(candidate)
        out.append(candidate)
    return out


def file_format(path: Path) -> str:
    """The reader for a file name, or FileRejected for an extension no reader handles."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise FileRejected(
            "file:unsupported_format",
            f"unsupported file type {path.suffix or '(none)'!r}; expected one of .csv, .json, "
            ".jsonl, .parquet, .xlsx",
        )
    return fmt


def read_file(path: Path, *, exact: bool = False, limits: IngestLimits | None = None) -> RawTable:
    """Read a landing file from disk (see read_bytes)."""
    return read_bytes(path.read_bytes(), file_format(path), exact=exact, limits=limits)


def read_bytes(data: bytes, fmt: str, *, exact: bool = False, limits: IngestLimits | None = None) -> RawTable:
    """Parse a file's bytes within `limits` (default: the conf dir's), or FileRejected saying why not.

    `exact=True` makes CSV go through Python's csv module (the slow reference reader).
    """
    if not data.strip(b" \t\r\n" + codecs.BOM_UTF8):
        raise FileRejected("file:empty", "the file is empty")
    limits = limits or ingest_limits()
    readers = {"csv": _read_csv, "json": _read_json, "parquet": _read_parquet, "xlsx": _read_xlsx}
    raw = readers[fmt](data, exact, limits)
    check_rows(raw.num_rows, limits)
    return raw


def check_rows(rows: int, limits: IngestLimits, where: str = "") -> None:
    """FileRejected when a file holds more data rows than ingest.max_rows."""
    if rows > limits.max_rows:
        raise FileRejected(
            "file:too_many_rows", f"{rows} rows{where}; the limit is ingest.max_rows={limits.max_rows}"
        )


def check_columns(columns: int, limits: IngestLimits, where: str = "") -> None:
    """FileRejected when a file has more columns than ingest.max_columns."""
    if columns > limits.max_columns:
        raise FileRejected(
            "file:too_many_columns",
            f"{columns} columns{where}; the limit is ingest.max_columns={limits.max_columns}",
        )


def _check_decoded(size: int, limits: IngestLimits, where: str) -> None:
    if size > limits.max_decoded_bytes:
        raise FileRejected(
            "file:too_large_decoded",
            f"{where} decodes to {size} bytes of text or more; the limit is "
            f"ingest.max_decoded_bytes={limits.max_decoded_bytes}",
        )


# ---- text decoding -------------------------------------------------------------------------------
def decode_text(data: bytes) -> tuple[str, str]:
    """Return (text, encoding) for a text file, or FileRejected (binary, UTF-16, undecodable)."""
    if data.startswith(_UTF16_32_BOMS):
        raise FileRejected("file:encoding", "the file is UTF-16/UTF-32 text; save it as CSV UTF-8")
    counts = np.bincount(np.frombuffer(data, dtype=np.uint8), minlength=256)
    controls = int(counts[:32].sum() + counts[127] - counts[list(_ALLOWED_CONTROLS)].sum())
    bad = _CONTROL_BYTES.search(data) if controls else None
    if bad:
        raise FileRejected(
            "file:binary", f"not a text file: control byte 0x{bad.group()[0]:02x} at offset {bad.start()}"
        )
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        raise FileRejected(
            "file:encoding",
            f"neither UTF-8 nor Windows-1252 text: invalid byte "
            f"0x{data[utf8_error.start]:02x} at offset {utf8_error.start}; "
            "save it as CSV UTF-8",
        ) from None


# ---- CSV -----------------------------------------------------------------------------------------
def sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _first_line(text: str) -> tuple[str, int] | None:
    """The first non-blank line and the offset just past it."""
    pos = 0
    while pos < len(text):
        nl = text.find("\n", pos)
        end = len(text) if nl < 0 else nl
        if text[pos:end].strip():
            return text[pos:end].rstrip("\r"), end + 1
        pos = end + 1
    return None


def _clean_header(name: str) -> str:
    return name.replace("\ufeff", "").strip()


def _read_csv(data: bytes, exact: bool, limits: IngestLimits) -> RawTable:
    text, encoding = decode_text(data)
    first = _first_line(text)
    if first is None:
        raise FileRejected("file:empty", "the file has no header line")
    header_line, body_start = first
    delimiter = sniff_delimiter(header_line)
    check_columns(header_line.count(delimiter) + 1, limits, " in the header line")
    if not exact and header_line.count('"') % 2 == 0 and "\r" not in header_line:
        headers = [_clean_header(h) for h in next(csv.reader([header_line], delimiter=delimiter))]
        if encoding == "utf-8":  # slice the original bytes rather than encode the text again
            skip = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
            body = data[skip + len(text[:body_start].encode("utf-8")) :]
        else:
            body = text[body_start:].encode("utf-8")
        try:
            fast = _csv_fast(body, headers, delimiter, text.count("\n", 0, body_start), limits)
        except csv.Error:  # e.g. a field over the csv module's size limit: the exact reader says where
            fast = None
        if fast is not None:
            fast.encoding = encoding
            return fast
    return _csv_exact(text, delimiter, encoding, limits)


@dataclass
class _Lines:
    """Where each body line starts and ends, whether it is blank, and its field count (vectorized)."""

    starts: np.ndarray
    ends: np.ndarray
    nonblank: np.ndarray
    fields: np.ndarray


def _scan_lines(body: bytes, delimiter: str) -> _Lines | None:
    """Field counts per line; None when a quoted value may span lines or a line ends in a bare CR."""
    arr = np.frombuffer(body, dtype=np.uint8)
    newlines = np.flatnonzero(arr == 10)
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [arr.size]))
    if starts[-1] == arr.size:
        starts, ends = starts[:-1], ends[:-1]
    cr = np.flatnonzero(arr == 13)
    if cr.size:
        if cr[-1] + 1 >= arr.size or (arr[cr + 1] != 10).any():
            return None
        ends = ends - ((ends > starts) & (arr[np.maximum(ends - 1, 0)] == 13))

    def per_line(positions: np.ndarray) -> np.ndarray:
        return np.searchsorted(positions, ends) - np.searchsorted(positions, starts)

    quotes = per_line(np.flatnonzero(arr == 34))
    if (quotes % 2).any():
        return None
    fields = per_line(np.flatnonzero(arr == ord(delimiter))) + 1
    nonblank = ends > starts
    for i in np.flatnonzero(nonblank & (fields == 1)):
        nonblank[i] = bool(body[starts[i] : ends[i]].strip())
    for i in np.flatnonzero((quotes > 0) & nonblank):
        fields[i] = len(next(csv.reader([body[starts[i] : ends[i]].decode("utf-8")], delimiter=delimiter)))
    return _Lines(starts, ends, nonblank, fields)


def _csv_fast(
    body: bytes, headers: list[str], delimiter: str, lines_before: int, limits: IngestLimits
) -> RawTable | None:
    """Arrow's multi-threaded CSV reader for the well-formed rows, Python only for the malformed ones.

    Returns None (the exact reader decides) when a quoted value may span lines or the two readers
    disagree on the row count.
    """
    n = len(headers)
    names = [f"c{i}" for i in range(n)]
    if not body.strip():
        empty = pa.array([], pa.int64())
        return RawTable(
            headers,
            pa.table({c: pa.array([], pa.string()) for c in names}),
            empty,
            pa.array([], pa.string()),
            pa.array([], pa.string()),
            empty,
            "csv",
        )
    scan = _scan_lines(body, delimiter)
    if scan is None:
        return None
    check_rows(int(scan.nonblank.sum()), limits)
    bad = scan.nonblank & (scan.fields != n)
    good = scan.nonblank & ~bad
    if good.any():
        try:
            table = pacsv.read_csv(
                io.BytesIO(body),
                read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 22),
                parse_options=pacsv.ParseOptions(
                    delimiter=delimiter, invalid_row_handler=lambda _row: "skip"
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()),
                    strings_can_be_null=True,
                    null_values=[""],
                    quoted_strings_can_be_null=True,
                ),
            )
        except (pa.ArrowInvalid, ValueError):
            return None
    else:
        table = pa.table({c: pa.array([], pa.string()) for c in names})
    if table.num_rows != int(good.sum()):
        return None
    ordinal = np.cumsum(scan.nonblank)
    line_no = np.arange(scan.starts.size, dtype=np.int64) + lines_before + 1
    rows = [ordinal[good]]
    lines = [line_no[good]]
    malformed: list[str | None] = [None] * table.num_rows
    raws: list[str | None] = [None] * table.num_rows
    if bad.any():
        extra: list[list[str | None]] = [[] for _ in names]
        for i in np.flatnonzero(bad):
            raw = body[scan.starts[i] : scan.ends[i]].decode("utf-8")
            rec = next(csv.reader([raw], delimiter=delimiter))
            for col, value in zip(extra, (rec + [""] * n)[:n], strict=True):
                col.append(value or None)
            malformed.append(f"expected {n} fields, found {len(rec)}")
            raws.append(raw)
        table = pa.concat_tables(
            [table, pa.table({c: pa.array(v, pa.string()) for c, v in zip(names, extra, strict=True)})]
        )
        rows.append(ordinal[bad])
        lines.append(line_no[bad])
    return RawTable(
        headers,
        table,
        pa.array(np.concatenate(rows), pa.int64()),
        pa.array(malformed, pa.string()),
        pa.array(raws, pa.string()),
        pa.array(np.concatenate(lines), pa.int64()),
        "csv",
    )


def _tracked_lines(text: str, consumed: list[str]) -> Iterator[str]:
    for line in io.StringIO(text, newline=""):
        consumed.append(line)
        yield line


def _csv_exact(text: str, delimiter: str, encoding: str, limits: IngestLimits) -> RawTable:
    """Python's csv module, one record at a time: exact line numbers and raw text of malformed rows."""
    consumed: list[str] = []
    reader = csv.reader(_tracked_lines(text, consumed), delimiter=delimiter)
    headers: list[str] | None = None
    cols: list[list[str | None]] = []
    rows: list[int] = []
    lines: list[int] = []
    malformed: list[str | None] = []
    raws: list[str | None] = []
    line_no = 0
    try:
        for rec in reader:
            start = line_no + 1
            line_no += len(consumed)
            raw = "".join(consumed).rstrip("\r\n")
            consumed.clear()
            if not rec or (len(rec) == 1 and not rec[0].strip()):
                continue
            if headers is None:
                check_columns(len(rec), limits)
                headers = [_clean_header(h) for h in rec]
                cols = [[] for _ in headers]
                continue
            check_rows(len(rows) + 1, limits)
            n = len(headers)
            bad = len(rec) != n
            values = (rec + [""] * n)[:n]
            for col, value in zip(cols, values, strict=True):
                col.append(value if value != "" else None)
            rows.append(len(rows) + 1)
            lines.append(start)
            malformed.append(f"expected {n} fields, found {len(rec)}" if bad else None)
            raws.append(raw if bad else None)
    except csv.Error as exc:
        raise FileRejected("file:unreadable", f"CSV parse error near line {line_no + 1}: {exc}") from None
    if headers is None:
        raise FileRejected("file:empty", "the file has no header line")
    data = pa.table({f"c{i}": pa.array(c, pa.string()) for i, c in enumerate(cols)})
    return RawTable(
        headers,
        data,
        pa.array(rows, pa.int64()),
        pa.array(malformed, pa.string()),
        pa.array(raws, pa.string()),
        pa.array(lines, pa.int64()),
        "csv",
        encoding,
    )


# ---- JSON ----------------------------------------------------------------------------------------
def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False, default=str)


def _json_records(text: str) -> Iterator[tuple[int | None, Any, str | None]]:
    """(line, record, parse error) for a JSON array, a single object, or JSON lines.

    Nesting too deep for the parser and numbers too long to convert are parse errors like any other.
    """
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
            raise FileRejected("file:unreadable", f"invalid JSON: {_json_error(exc, where=True)}") from None
        for record in doc:
            yield None, record, None
        return
    if stripped.startswith("{"):
        try:
            yield None, json.loads(text), None
            return
        except (ValueError, RecursionError):
            pass  # not one document: JSON lines
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield i, json.loads(line), None
        except (ValueError, RecursionError) as exc:
            yield i, line, f"invalid JSON: {_json_error(exc, where=False)}"


def _json_error(exc: Exception, where: bool) -> str:
    """The parser's message (with line and column for a whole document); short for the other failures."""
    if isinstance(exc, json.JSONDecodeError):
        return str(exc) if where else exc.msg
    return "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:200]


def _read_json(data: bytes, exact: bool, limits: IngestLimits) -> RawTable:
    text, encoding = decode_text(data)
    headers: dict[str, int] = {}
    records: list[tuple[int | None, dict[str, Any] | None, str | None, str | None]] = []
    for line, record, error in _json_records(text):
        check_rows(len(records) + 1, limits)
        if error is None and not isinstance(record, dict):
            error = f"expected a JSON object, found {type(record).__name__}"
        if error is not None:
            raw = (
                record
                if isinstance(record, str) and line is not None
                else json.dumps(record, ensure_ascii=False)
            )
            records.append((line, None, error, raw))
            continue
        for key in record:
            headers.setdefault(_clean_header(str(key)), len(headers))
        check_columns(len(headers), limits, " (distinct keys)")
        records.append((line, {_clean_header(str(k)): v for k, v in record.items()}, None, None))
    if records and not headers:
        errors = [f"line {r[0]}: {r[2]}" if r[0] else r[2] for r in records if r[2]]
        if errors:
            raise FileRejected("file:unreadable", f"no JSON object in the file ({errors[0]})")
        raise FileRejected("file:empty", "the file's JSON objects have no keys")
    names = list(headers)
    cols = [[_json_text(rec.get(h)) if rec else None for _, rec, _, _ in records] for h in names]
    data_table = pa.table({f"c{i}": pa.array(c, pa.string()) for i, c in enumerate(cols)})
    n = len(records)
    return RawTable(
        names,
        data_table,
        pa.array(range(1, n + 1), pa.int64()),
        pa.array([r[2] for r in records], pa.string()),
        pa.array([r[3] for r in records], pa.string()),
        pa.array([r[0] for r in records], pa.int64()),
        "json",
        encoding,
    )


# ---- Parquet -------------------------------------------------------------------------------------
_TS_FRACTION_ZERO = r"\.0+(Z?)$"


def _arrow_text(col: pa.Array) -> pa.Array:
    """A typed Parquet column as the text a CSV would hold: ISO dates/timestamps, true/false, JSON for nested."""
    t = col.type
    if pa.types.is_string(t):
        return col
    if pa.types.is_large_string(t) or pa.types.is_dictionary(t):
        try:
            return col.cast(pa.string())
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
            return pa.array([_json_text(v) for v in col.to_pylist()], pa.string())
    if pa.types.is_timestamp(t):
        text = pc.replace_substring_regex(col.cast(pa.string()), _TS_FRACTION_ZERO, r"\1")
        text = pc.replace_substring(text, " ", "T")
        return pc.replace_substring(text, "Z", "+00:00")
    if pa.types.is_boolean(t):
        return pc.if_else(col, "true", "false")
    try:
        return col.cast(pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        return pa.array([_json_text(v) for v in col.to_pylist()], pa.string())


def _has_dictionary(t: pa.DataType) -> bool:
    return pa.types.is_dictionary(t) or any(_has_dictionary(t.field(i).type) for i in range(t.num_fields))


def _decoded_size(arr: pa.Array) -> int:
    """Bytes of text an array decodes to, counted without decoding it (dictionary strings by length)."""
    t = arr.type
    if pa.types.is_dictionary(t):
        dictionary = arr.dictionary
        lengths = pc.binary_length(dictionary) if _is_text(t.value_type) else pa.array([8] * len(dictionary))
        return int(pc.sum(pc.take(lengths, arr.indices)).as_py() or 0)
    if _is_text(t):
        return int(pc.sum(pc.binary_length(arr)).as_py() or 0)
    if pa.types.is_struct(t):
        return sum(_decoded_size(child) for child in arr.flatten()) + 2 * len(arr)
    if (
        pa.types.is_list(t)
        or pa.types.is_large_list(t)
        or pa.types.is_fixed_size_list(t)
        or pa.types.is_map(t)
    ):
        return _decoded_size(arr.flatten()) + 2 * len(arr)
    return 8 * len(arr)


def _is_text(t: pa.DataType) -> bool:
    return (
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
    )


def _parquet_file(data: bytes, read_dictionary: list[str] | None = None) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(pa.BufferReader(data), read_dictionary=read_dictionary)
    except (pa.ArrowException, OSError) as exc:
        raise FileRejected("file:unreadable", f"corrupt Parquet file: {exc}") from None


def check_parquet_metadata(pf: pq.ParquetFile, limits: IngestLimits) -> None:
    """Rows, columns, values per column and uncompressed bytes from the footer, before any page is read."""
    md = pf.metadata
    check_rows(md.num_rows, limits, " (Parquet metadata)")
    check_columns(max(md.num_columns, len(pf.schema_arrow)), limits, " (Parquet metadata)")
    if md.num_row_groups * max(md.num_columns, 1) > max(limits.max_rows, 1024):
        raise FileRejected(
            "file:unreadable",
            f"{md.num_row_groups} row groups of {md.num_columns} columns: too many parts for "
            "the rows the file holds; write it with bigger row groups",
        )
    values: dict[str, int] = {}
    uncompressed = 0
    for g in range(md.num_row_groups):
        group = md.row_group(g)
        chunks = [group.column(c) for c in range(group.num_columns)]
        for chunk in chunks:
            values[chunk.path_in_schema] = values.get(chunk.path_in_schema, 0) + chunk.num_values
        uncompressed += max(group.total_byte_size, sum(chunk.total_uncompressed_size for chunk in chunks))
    _check_decoded(uncompressed, limits, "the Parquet file (uncompressed size in its metadata)")
    for path, count in values.items():
        if count > limits.max_rows:
            raise FileRejected(
                "file:too_many_rows",
                f"column {path!r} holds {count} values (Parquet metadata); the limit is "
                f"ingest.max_rows={limits.max_rows}",
            )


def _read_parquet(data: bytes, exact: bool, limits: IngestLimits) -> RawTable:
    if not (data.startswith(b"PAR1") and data.endswith(b"PAR1")):
        raise FileRejected("file:unreadable", "truncated or not a Parquet file (missing PAR1 magic bytes)")
    try:
        return _parquet_rows(data, limits)
    except (FileRejected, MemoryError):
        raise
    except Exception as exc:  # Arrow, and its Python layer decoding names, fail in many ways on damaged files
        raise FileRejected(
            "file:unreadable", f"corrupt Parquet file: {type(exc).__name__}: {str(exc)[:300]}"
        ) from None


def _parquet_rows(data: bytes, limits: IngestLimits) -> RawTable:
    pf = _parquet_file(data)
    check_parquet_metadata(pf, limits)
    leaves = [pf.schema.column(i) for i in range(len(pf.schema))]
    # Strings stay dictionary-encoded while read, so the text they expand to is counted before it exists.
    pf = _parquet_file(data, [c.path for c in leaves if c.physical_type == "BYTE_ARRAY"] or None)
    names = pf.schema_arrow.names
    pieces: list[list[pa.Array]] = [[] for _ in names]
    rows = decoded = 0
    for batch in pf.iter_batches(batch_size=limits.batch_rows, use_threads=False):
        rows += batch.num_rows
        check_rows(rows, limits)
        for i, col in enumerate(batch.columns):
            if _has_dictionary(col.type):
                _check_decoded(decoded + _decoded_size(col), limits, f"column {names[i]!r}")
            text = _arrow_text(col)
            decoded += int(pc.sum(pc.binary_length(text)).as_py() or 0)
            _check_decoded(decoded, limits, "the Parquet file")
            pieces[i].append(text)
    headers = [_clean_header(n) for n in names]
    text_table = pa.table({f"c{i}": pa.chunked_array(p, pa.string()) for i, p in enumerate(pieces)})
    return RawTable(
        headers,
        text_table,
        pa.array(range(1, rows + 1), pa.int64()),
        pa.nulls(rows, pa.string()),
        pa.nulls(rows, pa.string()),
        pa.nulls(rows, pa.int64()),
        "parquet",
    )


# ---- XLSX ----------------------------------------------------------------------------------------
def cell_text(value: Any) -> str | None:
    """An Excel cell value as text: integral numbers without '.0', dates ISO, midnight datetimes as dates."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    text = str(value)
    return text if text.strip() else None


_BOMB_MIN_BYTES, _BOMB_RATIO = 50 * 2**20, 100


def check_archive(data: bytes, limits: IngestLimits) -> None:
    """Refuse an XLSX (a zip) whose parts would inflate past ingest.max_decoded_bytes, from its directory."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except MemoryError:
        raise
    except Exception as exc:  # BadZipFile, and NotImplementedError for a damaged version field among others
        raise FileRejected(
            "file:unreadable", f"truncated or corrupt XLSX workbook: {type(exc).__name__}: {str(exc)[:300]}"
        ) from None
    if len(infos) > limits.max_archive_members:
        raise FileRejected(
            "file:zip_bomb",
            f"the workbook has {len(infos)} parts (limit ingest.max_archive_members="
            f"{limits.max_archive_members}); refusing to open it",
        )
    total = sum(i.file_size for i in infos)
    if total > limits.max_decoded_bytes:
        raise FileRejected(
            "file:zip_bomb",
            f"the workbook would expand to {total} bytes (limit ingest.max_decoded_bytes="
            f"{limits.max_decoded_bytes}); refusing to open it",
        )
    ratio = total / max(1, sum(i.compress_size for i in infos))
    if total > _BOMB_MIN_BYTES and ratio > _BOMB_RATIO:  # workbooks compress 5-20 times, not hundreds
        raise FileRejected(
            "file:zip_bomb",
            f"the workbook would expand {ratio:.0f} times, to {total} bytes; refusing to open it",
        )


def _sheet_rows(sheet: Any, limits: IngestLimits) -> Iterator[tuple[int, list[str | None]]]:
    """(sheet row, cell texts) of the non-empty rows, streamed: at most max_rows + 1 (the header) of at most
    max_columns cells, and at most max_decoded_bytes of text (a shared string may be repeated in many cells).

    The sheet's declared dimension is not trusted (the writing program sets it, or leaves it out, and
    formatting alone stretches it): rows and cells are counted as they come.
    """
    kept = size = 0
    rows = sheet.iter_rows(values_only=True, max_col=limits.max_columns + 1)
    for sheet_row, cells in enumerate(rows, start=1):
        row = [cell_text(v) for v in cells]
        while row and row[-1] is None:
            row.pop()
        if not row:
            continue
        check_columns(len(row), limits, f" in sheet row {sheet_row}")
        kept += 1
        check_rows(kept - 1, limits)
        size += sum(len(v) for v in row if v is not None)
        _check_decoded(size, limits, "the workbook's cells")
        yield sheet_row, row


def _read_xlsx(data: bytes, exact: bool, limits: IngestLimits) -> RawTable:
    import openpyxl

    if not data.startswith(b"PK"):
        raise FileRejected("file:unreadable", "not an XLSX workbook (an old .xls or another format renamed?)")
    check_archive(data, limits)
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            if not wb.worksheets:
                raise FileRejected("file:empty", "the workbook has no sheet")
            return _xlsx_rows(_sheet_rows(wb.worksheets[0], limits))
        finally:
            wb.close()
    except (FileRejected, MemoryError):
        raise
    except Exception as exc:  # zip, zlib, XML and openpyxl each fail in their own way on a damaged workbook
        raise FileRejected(
            "file:unreadable", f"truncated or corrupt XLSX workbook: {type(exc).__name__}: {str(exc)[:300]}"
        ) from None


def _xlsx_rows(values: Iterable[tuple[int, list[str | None]]]) -> RawTable:
    """Rows of a sheet (sheet row, cell texts without trailing blanks, blank rows left out) as a RawTable."""
    headers: list[str] | None = None
    cols: list[list[str | None]] = []
    lines: list[int] = []
    malformed: list[str | None] = []
    raws: list[str | None] = []
    for sheet_row, row in values:
        if headers is None:
            headers = [_clean_header(h or "") for h in row]
            cols = [[] for _ in headers]
            continue
        n = len(headers)
        bad = len(row) > n
        for col, value in zip(cols, (row + [None] * n)[:n], strict=True):
            col.append(value)
        lines.append(sheet_row)
        malformed.append(f"expected {n} fields, found {len(row)}" if bad else None)
        raws.append(json.dumps(row, ensure_ascii=False) if bad else None)
    if headers is None:
        raise FileRejected("file:empty", "the workbook's first sheet is empty")
    n_rows = len(lines)
    data = pa.table({f"c{i}": pa.array(c, pa.string()) for i, c in enumerate(cols)})
    return RawTable(
        headers,
        data,
        pa.array(range(1, n_rows + 1), pa.int64()),
        pa.array(malformed, pa.string()),
        pa.array(raws, pa.string()),
        pa.array(lines, pa.int64()),
        "xlsx",
    )
