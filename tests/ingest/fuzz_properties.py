"""Hypothesis strategies and properties of the file parsers: one place for the test (a bounded number of
examples, tests/ingest/test_fuzz_parsers.py) and the bench (as many as asked, bench/fuzz_parsers.py).

Each property takes the drawn values and asserts what a user relies on: a parser answers with a value or with
its documented rejection (FileRejected from the readers, a ValidationReport whose errors name a row and a
column, ReshapeError from the shapes), never with another exception; a formatted number parses back to itself.
Inputs are bounded in size (no property measures time: the bench reports times).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import strategies as st

from bakery.config import ColumnSpec, SourceSpec, load_settings
from bakery.ingest.limits import ingest_limits
from bakery.ingest.mapping import load_synonyms, map_columns
from bakery.ingest.pseudonymise import (
    PrivacyRules,
    is_personal_column,
    is_pseudonym,
    looks_personal,
    pseudonym,
    pseudonymise_columns,
)
from bakery.ingest.readers import FileRejected, read_bytes
from bakery.ingest.reshape import ReshapeError, reshape_raw
from bakery.ingest.validate import CURRENCIES, parse_numbers, parse_values, validate_frame

SETTINGS = load_settings()
# Small limits, so that examples cross them often (a cell over the length limit, a file over the row limit).
LIMITS = replace(ingest_limits(SETTINGS), max_cell_chars=64, max_rows=40, max_columns=12)
MAX_TEXT = 2 * LIMITS.max_cell_chars
KEY = b"fuzz-key"

# ---- strategies -------------------------------------------------------------------------------------------
_NUMBERISH = "0123456789 ,.+-eE€$£¥₩EURSDGBPCHFKJY\u00a0\t"
cells = st.one_of(
    st.none(),
    st.text(alphabet=_NUMBERISH, max_size=MAX_TEXT),
    st.text(max_size=MAX_TEXT),
    st.sampled_from(
        [
            "1,5",
            "1.234,5",
            "3,465",
            "0,90 €",
            "$1.20",
            "1.20 EUR",
            "2026-01-31",
            "2026-01-31T08:15:00Z",
            "S001\n",
            " S01 ",
            "true",
            "NaN",
            "inf",
            "1e309",
            "-0",
            "ana@example.com",
            "+34 612 345 678",
        ]
    ),
    st.integers(1, 4 * LIMITS.max_cell_chars).map(lambda n: "1" + " " * n + "x"),
)
date_texts = st.one_of(
    st.dates().map(dt.date.isoformat),
    st.datetimes().map(dt.datetime.isoformat),
    st.datetimes().map(lambda d: d.isoformat(sep=" ")),
    st.text(alphabet="0123456789-T :.Z+", max_size=40),
    st.text(max_size=40),
)
id_texts = st.text(max_size=24)


@st.composite
def formatted_numbers(draw: st.DrawFn) -> tuple[str, float, bool]:
    """(text, value, whole): a number as shops write it: '.' or ',' decimals, a currency on either side."""
    whole = draw(st.booleans())
    if whole:
        value = float(draw(st.integers(-(10**12), 10**12)))
        text = str(int(value))
    else:
        places = draw(st.integers(0, 6))
        value = draw(st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False))
        text = f"{value:.{places}f}"
        value = float(text)
        if draw(st.booleans()):
            text = text.replace(".", ",")
    space = draw(st.sampled_from(["", " ", "\u00a0"]))
    currency = draw(st.sampled_from(("",) + CURRENCIES))
    if currency:
        text = f"{currency}{space}{text}" if draw(st.booleans()) else f"{text}{space}{currency}"
    return text, value, whole


@st.composite
def frames(draw: st.DrawFn, kind: str | None = None) -> tuple[SourceSpec, pd.DataFrame]:
    """A template kind and a frame of its columns (some left out, some extra) filled with arbitrary cells."""
    spec = SETTINGS.source(kind or draw(st.sampled_from(sorted(SETTINGS.sources))))
    columns = [c for c in spec.column_names if c in spec.required or draw(st.booleans())]
    if draw(st.booleans()):
        columns.append("extra_" + draw(st.text(alphabet="abc", max_size=3)))
    n = draw(st.integers(0, 6))
    data = {c: [draw(cells) for _ in range(n)] for c in dict.fromkeys(columns)}
    return spec, pd.DataFrame(data, index=pd.Index(range(1, n + 1), name="row"), dtype=object)


def _csv_text(rows: list[list[str]], delimiter: str) -> str:
    return "\n".join(delimiter.join(row) for row in rows) + "\n"


csv_bytes = st.one_of(
    st.binary(max_size=400),
    st.builds(
        lambda rows, d: _csv_text(rows, d).encode("utf-8"),
        st.lists(st.lists(st.text(max_size=12), min_size=1, max_size=6), min_size=1, max_size=8),
        st.sampled_from([",", ";", "\t", "|"]),
    ),
    st.text(max_size=400).map(lambda t: t.encode("utf-8")),
)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
json_bytes = st.one_of(
    st.binary(max_size=300),
    st.lists(st.dictionaries(st.text(max_size=8), json_values, max_size=5), max_size=6).map(
        lambda recs: "\n".join(json.dumps(r) for r in recs).encode()
    ),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.integers(1, 5000).map(lambda depth: ("[" * depth + "]" * depth).encode()),
)


def _parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


_GOOD_PARQUET = _parquet(
    pa.table(
        {
            "date": ["2026-01-01", "2026-01-02"],
            "store_id": ["S01", None],
            "q": [1.5, 2.0],
            "n": pa.array([[1, 2], [3]]),
            "b": pa.array([b"\xff", b"x"]),
        }
    )
)


def _xlsx_bytes() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    for row in (["date", "store_id"], ["2026-01-01", "S01"], [dt.datetime(2026, 1, 2), 3.5]):
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


_GOOD_XLSX = _xlsx_bytes()


def mutated(base: bytes) -> st.SearchStrategy[bytes]:
    """A valid file with a few bytes changed, cut short, or both."""
    edits = st.lists(st.tuples(st.integers(0, len(base) - 1), st.integers(0, 255)), min_size=1, max_size=6)

    def apply(changes: list[tuple[int, int]], cut: int) -> bytes:
        data = bytearray(base)
        for pos, byte in changes:
            data[pos] = byte
        return bytes(data[:cut])

    return st.builds(apply, edits, st.integers(len(base) // 2, len(base)))


parquet_bytes = st.one_of(
    mutated(_GOOD_PARQUET), st.binary(max_size=200).map(lambda b: b"PAR1" + b + b"PAR1")
)
xlsx_bytes = st.one_of(mutated(_GOOD_XLSX), st.binary(max_size=200).map(lambda b: b"PK" + b))
files = st.one_of(
    st.tuples(st.just("csv"), csv_bytes),
    st.tuples(st.just("json"), json_bytes),
    st.tuples(st.just("parquet"), parquet_bytes),
    st.tuples(st.just("xlsx"), xlsx_bytes),
)
mapping_json = st.dictionaries(
    st.one_of(st.sampled_from(SETTINGS.source("sales").column_names), st.text(max_size=20)),
    json_values,
    max_size=6,
)
shape_json = st.one_of(
    st.dictionaries(
        st.sampled_from(
            [
                "shape",
                "date",
                "item",
                "quantity",
                "price",
                "amount",
                "store",
                "store_id",
                "date_format",
                "exclude",
                "ignore",
                "items",
                "other",
            ]
        ),
        st.one_of(
            st.sampled_from(["items", "wide", "Date", "Item", "Qty", "S1", "%d-%m-%Y", "%Q"]), json_values
        ),
        max_size=8,
    ),
    json_values,
)
shape_frames = st.lists(
    st.tuples(
        st.sampled_from(["2026-01-01", "01-02-2026", "x", ""]),
        st.sampled_from(["Pan", "NONE", "", "Café"]),
        cells,
    ),
    max_size=6,
)
_phones = st.from_regex(r"\+[1-9][0-9]{1,2} [0-9]{3} [0-9]{3} [0-9]{3}", fullmatch=True)
_headers = st.sampled_from(
    ["cashier_id", "Customer E-mail", "note", "Kundenfrequenz", "LoyaltyCard", "misc", "ticket"]
)
personal_tables = st.lists(
    st.tuples(_headers, st.lists(st.one_of(st.none(), cells, st.emails(), _phones), min_size=3, max_size=3)),
    min_size=1,
    max_size=5,
    unique_by=lambda column: column[0],
)


# ---- properties -------------------------------------------------------------------------------------------
def prop_number_round_trip(case: tuple[str, float, bool]) -> None:
    """A number written with '.' or ',' decimals and a currency sign or code reads back as that number."""
    text, value, whole = case
    [got] = parse_numbers(pd.Series([text], dtype=object), whole=whole)
    assert got is not None and math.isclose(got, value, rel_tol=1e-12, abs_tol=1e-12), (text, got, value)


def prop_parse_numbers_total(texts: list[Any]) -> None:
    """One finite number or None per value, whatever the text."""
    got = parse_numbers(pd.Series(texts, dtype=object))
    assert len(got) == len(texts)
    assert all(v is None or (isinstance(v, float) and math.isfinite(v)) for v in got)


def prop_dates(text: str) -> None:
    """A date parses to an ISO date or counts as bad; never an exception."""
    for col in (ColumnSpec("d", "date", False), ColumnSpec("t", "timestamp", False)):
        parsed = parse_values(pd.Series([text], index=pd.Index([1]), dtype=object), col)
        value, canon, bad = parsed.values[1], parsed.text[1], bool(parsed.bad[1])
        assert (value is None) == (canon is None)
        assert not bad or value is None
        if value is not None:
            assert canon == value.isoformat()


def prop_validate_frame(case: tuple[SourceSpec, pd.DataFrame]) -> None:
    """A report whose every error names a row of the file and a template column (or none, for a whole row),
    and a cell over the length limit is refused as too long."""
    spec, df = case
    report = validate_frame(df, spec, today=dt.date(2026, 5, 1), limits=LIMITS)
    if report.fatal:
        assert report.rows.empty
        return
    assert all(
        e.row in df.index and (e.column is None or e.column in spec.column_names) for e in report.errors
    )
    assert set(report.rows.index) <= set(df.index) - set(report.invalid_rows)
    too_long = {(e.row, e.column) for e in report.errors if e.rule.startswith("too_long:")}
    for template, header in report.mapping.items():
        for row, value in df[header].items():
            too_big = isinstance(value, str) and len(value) > LIMITS.max_cell_chars
            assert too_big == ((row, template) in too_long)


def prop_ids(text: str) -> None:
    """An id holding a control character (`S001\\n`) is refused; other ids are not refused for their text."""
    df = pd.DataFrame(
        {
            "store_id": [text],
            "name": ["x"],
            "city": ["Madrid"],
            "country": ["ES"],
            "timezone": ["Europe/Madrid"],
        },
        index=pd.Index([1], name="row"),
        dtype=object,
    )
    report = validate_frame(df, SETTINGS.source("stores"), limits=LIMITS)
    rules = {e.rule for e in report.errors}
    has_control = any(ord(c) < 32 or ord(c) == 127 for c in text)
    assert ("id:store_id" in rules) == (has_control and len(text) <= LIMITS.max_cell_chars)
    if not rules:
        assert list(report.rows["store_id"]) == [text.strip()]


def prop_read_bytes(case: tuple[str, bytes]) -> None:
    """A table whose columns, row numbers and bookkeeping line up, or FileRejected with a rule, a reason."""
    fmt, data = case
    for exact in (False, True):
        try:
            raw = read_bytes(data, fmt, exact=exact, limits=LIMITS)
        except FileRejected as rej:
            assert rej.rule.startswith("file:") and rej.reason
            continue
        n = raw.num_rows
        assert n <= LIMITS.max_rows and len(raw.headers) <= LIMITS.max_columns
        assert raw.data.num_columns == len(raw.headers) and raw.data.num_rows == n
        assert len(raw.malformed) == len(raw.raw) == len(raw.line) == n
        assert sorted(raw.row_number.to_pylist()) == list(range(1, n + 1))


def prop_mapping(explicit: dict[str, Any]) -> None:
    """Any JSON mapping gives a column mapping (bad entries as problems naming them), never an exception."""
    headers = ["Datum", "Filiale", "Artikel", "Menge", ""]
    cm = map_columns(headers, SETTINGS.source("sales"), load_synonyms(SETTINGS), explicit)
    assert all(0 <= i < len(headers) for i in cm.assigned.values())
    assert len(set(cm.assigned.values())) == len(cm.assigned)
    assert all(isinstance(p, str) and len(p) < 2000 for p in cm.problems)


def prop_shape(spec: Any, rows: list[tuple[str, str, Any]]) -> None:
    """Any JSON shape reshapes the file or is a ReshapeError naming what is wrong."""
    body = "".join(f"{d},{i},{json.dumps(q) if q is not None else ''}\n" for d, i, q in rows)
    try:
        raw = read_bytes(("Date,Item,Qty\n" + body).encode(), "csv", limits=LIMITS)
    except FileRejected:
        return
    try:
        out = reshape_raw(raw, spec, LIMITS)
    except ReshapeError as exc:
        assert str(exc).startswith(("shape:", "row ")), exc
        return
    assert out.headers[:3] == ["date", "store_id", "product_id"]


def prop_pseudonymise(columns: list[tuple[str, list[Any]]]) -> None:
    """No unmapped column keeps a value that looks personal, personal columns keep only pseudonyms, and the
    same value always gets the same pseudonym."""
    headers = [h for h, _ in columns]
    arrays = [pa.array([v if v is None else str(v) for v in values], pa.string()) for _, values in columns]
    rules = PrivacyRules.from_settings(SETTINGS)
    n = len(arrays[0])
    none = pa.nulls(n, pa.string())
    out, _, done = pseudonymise_columns(headers, arrays, none, none, {}, rules, lambda: KEY)
    for i, (header, before, after) in enumerate(zip(headers, arrays, out, strict=True)):
        values = before.drop_null().to_pylist()
        replaced = is_personal_column(header, rules) or any(map(looks_personal, values))
        for old, new in zip(before.to_pylist(), after.to_pylist(), strict=True):
            assert (old is None) == (new is None)
            if old is not None:
                assert new == (pseudonym(old, KEY) if replaced else old), (header, old, new)
                assert not looks_personal(new) and (is_pseudonym(new) or not replaced)
        assert (headers[i] in done.columns) == (replaced and before.null_count < n)


@dataclass(frozen=True)
class Property:
    """A property and the strategies of its arguments."""

    name: str
    test: Callable[..., None]
    strategies: tuple[st.SearchStrategy[Any], ...]


PROPERTIES = (
    Property("number_round_trip", prop_number_round_trip, (formatted_numbers(),)),
    Property("parse_numbers", prop_parse_numbers_total, (st.lists(cells, max_size=8),)),
    Property("dates", prop_dates, (date_texts,)),
    Property("ids", prop_ids, (id_texts,)),
    Property("validate_frame", prop_validate_frame, (frames(),)),
    Property("read_bytes", prop_read_bytes, (files,)),
    Property("mapping_json", prop_mapping, (mapping_json,)),
    Property("shape_json", prop_shape, (shape_json, shape_frames)),
    Property("pseudonymise", prop_pseudonymise, (personal_tables,)),
)


def pathological_cell(length: int) -> str:
    """The cell that took cubic time: a digit, spaces, then a letter."""
    return "1" + " " * (length - 2) + "x"


NORMAL_CELL = "12,50 €"
