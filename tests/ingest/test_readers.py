"""Reading landing files of every format into raw text rows; whole-file rejections with a rule and reason."""

from __future__ import annotations

import datetime as dt
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from bakery.ingest.readers import FileRejected, read_bytes


def _rows(raw) -> list[list[str | None]]:
    """Rows in file order."""
    rows = zip(*(raw.column(i).to_pylist() for i in range(len(raw.headers))), strict=True)
    return [list(r) for _, r in sorted(zip(raw.row_number.to_pylist(), rows, strict=True))]


def _by_row(raw, array) -> list:
    return [v for _, v in sorted(zip(raw.row_number.to_pylist(), array.to_pylist(), strict=True))]


def _xlsx(rows: list[list]) -> bytes:
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def test_csv_with_bom_crlf_and_blank_lines_reads_every_row_as_text():
    data = "\ufeffStore_ID,Name\r\n\r\nS01,Centro\r\n\r\n  \r\nS02,\"Norte, Sur\"\r\nS03,\r\n".encode()
    raw = read_bytes(data, "csv")
    assert raw.headers == ["Store_ID", "Name"]
    assert _rows(raw) == [["S01", "Centro"], ["S02", "Norte, Sur"], ["S03", None]]
    assert raw.row_number.to_pylist() == [1, 2, 3]
    assert raw.malformed.null_count == 3


def test_csv_rows_with_wrong_field_count_are_kept_with_reason_and_raw_text():
    data = b"a,b,c\n1,2,3\n\n4,5\n6,7,8,9\n\"x\ny\",q,r\n"
    for raw in (read_bytes(data, "csv"), read_bytes(data.replace(b"\"x\ny\"", b"\"x;y\""), "csv")):
        assert sorted(raw.row_number.to_pylist()) == [1, 2, 3, 4]
        assert _by_row(raw, raw.malformed) == [None, "expected 3 fields, found 2", "expected 3 fields, found 4", None]
        assert _by_row(raw, raw.raw)[1:3] == ["4,5", "6,7,8,9"]
        assert _rows(raw)[1] == ["4", "5", None]
        assert _rows(raw)[3][1:] == ["q", "r"]
        assert _by_row(raw, raw.line) == [2, 4, 5, 6]
    assert _rows(raw)[3][0] == "x;y"


def test_quoted_delimiters_crlf_and_malformed_rows_together():
    data = b'a,b,c\r\n1,"2,5",3\r\n4,"5,6"\r\n\r\n7,8,9\r\n'
    raw = read_bytes(data, "csv")
    assert _rows(raw) == [["1", "2,5", "3"], ["4", "5,6", None], ["7", "8", "9"]]
    assert _by_row(raw, raw.malformed) == [None, "expected 3 fields, found 2", None]
    assert _by_row(raw, raw.line) == [2, 3, 5]


def test_exact_mode_gives_line_numbers_and_matches_the_fast_reader():
    data = b"a;b\n\n1;2\n3;4\n"
    fast, exact = read_bytes(data, "csv"), read_bytes(data, "csv", exact=True)
    assert _rows(fast) == _rows(exact) == [["1", "2"], ["3", "4"]]
    assert fast.line.to_pylist() == exact.line.to_pylist() == [3, 4]


def test_windows_1252_text_is_accepted_and_undecodable_text_is_rejected():
    raw = read_bytes("name,city\nPanadería,Málaga\n".encode("cp1252"), "csv")
    assert raw.encoding == "cp1252" and _rows(raw) == [["Panadería", "Málaga"]]
    with pytest.raises(FileRejected) as exc:
        read_bytes(b"name,city\nx\x81y,z\n", "csv")
    assert exc.value.rule == "file:encoding" and "offset" in exc.value.reason


@pytest.mark.parametrize("data,rule", [
    (b"", "file:empty"),
    (b"\xef\xbb\xbf\r\n \n", "file:empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "file:binary"),
    ("a,b\n1,2\n".encode("utf-16"), "file:encoding"),
])
def test_unusable_text_files_are_rejected_with_a_rule(data, rule):
    with pytest.raises(FileRejected) as exc:
        read_bytes(data, "csv")
    assert exc.value.rule == rule


def test_header_only_file_has_zero_rows():
    raw = read_bytes(b"a,b\r\n", "csv")
    assert raw.headers == ["a", "b"] and raw.num_rows == 0


def test_json_lines_and_json_array_read_as_text_with_bad_lines_marked():
    lines = b'{"date": "2026-01-01", "qty": 1.5, "ok": true}\n\n{"date": "2026-01-02", "note": {"a": 1}}\n{oops\n[1]\n'
    raw = read_bytes(lines, "json")
    assert raw.headers == ["date", "qty", "ok", "note"]
    assert _rows(raw)[:2] == [["2026-01-01", "1.5", "true", None], ["2026-01-02", None, None, '{"a": 1}']]
    assert raw.malformed.to_pylist()[2].startswith("invalid JSON")
    assert raw.malformed.to_pylist()[3] == "expected a JSON object, found list"
    assert raw.raw.to_pylist()[2] == "{oops"
    array = read_bytes(json.dumps([{"a": 1}, {"a": None, "b": "x"}]).encode(), "json")
    assert array.headers == ["a", "b"] and _rows(array) == [["1", None], [None, "x"]]
    with pytest.raises(FileRejected, match="invalid JSON"):
        read_bytes(b'[{"a": 1}, ', "json")


def test_parquet_typed_columns_become_iso_text():
    table = pa.table({
        "date": pa.array([dt.date(2026, 1, 2)]),
        "ts": pa.array([dt.datetime(2026, 1, 2, 8, 30)], pa.timestamp("us", tz="UTC")),
        "local": pa.array([dt.datetime(2026, 1, 2, 8, 30, 0, 500)], pa.timestamp("us")),
        "qty": pa.array([2.0]), "n": pa.array([3]), "flag": pa.array([True]), "s": pa.array(["x"]),
    })
    raw = read_bytes(_parquet(table), "parquet")
    assert _rows(raw) == [["2026-01-02", "2026-01-02T08:30:00+00:00", "2026-01-02T08:30:00.000500", "2", "3", "true",
                           "x"]]


def test_truncated_parquet_and_xlsx_are_rejected():
    good = _parquet(pa.table({"a": ["x"]}))
    with pytest.raises(FileRejected, match="Parquet") as exc:
        read_bytes(good[: len(good) // 2], "parquet")
    assert exc.value.rule == "file:unreadable"
    xlsx = _xlsx([["a"], ["x"]])
    with pytest.raises(FileRejected, match="XLSX") as exc:
        read_bytes(xlsx[: len(xlsx) // 2], "xlsx")
    assert exc.value.rule == "file:unreadable"


def test_xlsx_cells_become_text_and_blank_rows_are_skipped():
    data = _xlsx([[None], ["Datum", "Menge", "Note"], [dt.datetime(2026, 1, 2), 3.0, None], [None, None],
                  [dt.date(2026, 1, 3), 1.5, "fresh", "extra"]])
    raw = read_bytes(data, "xlsx")
    assert raw.headers == ["Datum", "Menge", "Note"]
    assert _rows(raw) == [["2026-01-02", "3", None], ["2026-01-03", "1.5", "fresh"]]
    assert raw.line.to_pylist() == [3, 5]
    assert raw.malformed.to_pylist() == [None, "expected 3 fields, found 4"]
