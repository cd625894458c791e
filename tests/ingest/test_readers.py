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
    data = '\ufeffStore_ID,Name\r\n\r\nS01,Centro\r\n\r\n  \r\nS02,"Norte, Sur"\r\nS03,\r\n'.encode()
    raw = read_bytes(data, "csv")
    assert raw.headers == ["Store_ID", "Name"]
    assert _rows(raw) == [["S01", "Centro"], ["S02", "Norte, Sur"], ["S03", None]]
    assert raw.row_number.to_pylist() == [1, 2, 3]
    assert raw.malformed.null_count == 3


def test_csv_rows_with_wrong_field_count_are_kept_with_reason_and_raw_text():
    data = b'a,b,c\n1,2,3\n\n4,5\n6,7,8,9\n"x\ny",q,r\n'
    for raw in (read_bytes(data, "csv"), read_bytes(data.replace(b'"x\ny"', b'"x;y"'), "csv")):
        assert sorted(raw.row_number.to_pylist()) == [1, 2, 3, 4]
        assert _by_row(raw, raw.malformed) == [
            None,
            "expected 3 fields, found 2",
            "expected 3 fields, found 4",
            None,
        ]
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


@pytest.mark.parametrize(
    "data,rule",
    [
        (b"", "file:empty"),
        (b"\xef\xbb\xbf\r\n \n", "file:empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "file:binary"),
        ("a,b\n1,2\n".encode("utf-16"), "file:encoding"),
    ],
)
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
    table = pa.table(
        {
            "date": pa.array([dt.date(2026, 1, 2)]),
            "ts": pa.array([dt.datetime(2026, 1, 2, 8, 30)], pa.timestamp("us", tz="UTC")),
            "local": pa.array([dt.datetime(2026, 1, 2, 8, 30, 0, 500)], pa.timestamp("us")),
            "qty": pa.array([2.0]),
            "n": pa.array([3]),
            "flag": pa.array([True]),
            "s": pa.array(["x"]),
        }
    )
    raw = read_bytes(_parquet(table), "parquet")
    assert _rows(raw) == [
        ["2026-01-02", "2026-01-02T08:30:00+00:00", "2026-01-02T08:30:00.000500", "2", "3", "true", "x"]
    ]


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
    data = _xlsx(
        [
            [None],
            ["Datum", "Menge", "Note"],
            [dt.datetime(2026, 1, 2), 3.0, None],
            [None, None],
            [dt.date(2026, 1, 3), 1.5, "fresh", "extra"],
        ]
    )
    raw = read_bytes(data, "xlsx")
    assert raw.headers == ["Datum", "Menge", "Note"]
    assert _rows(raw) == [["2026-01-02", "3", None], ["2026-01-03", "1.5", "fresh"]]
    assert raw.line.to_pylist() == [3, 5]
    assert raw.malformed.to_pylist() == [None, "expected 3 fields, found 4"]


# ---- limits: refused before the file is decoded, or while it is read --------------------------------------
def _limits(**changes):
    from dataclasses import replace

    from bakery.ingest.limits import ingest_limits

    return replace(ingest_limits(), **changes)


def _constant_parquet(
    rows: int, value: str, columns: tuple[str, ...] = ("date", "store_id", "product_id", "quantity_sold")
) -> bytes:
    """A file of `rows` identical rows, dictionary-encoded: a few KB that decode to rows x columns strings."""
    import numpy as np

    column = pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, dtype=np.int32)), pa.array([value]))
    return _parquet(pa.table({c: column for c in columns}))


def test_parquet_with_millions_of_rows_is_refused_from_its_metadata_without_decoding_them(tmp_path):
    """The attack: an 8 KB file holding 5 M rows was decoded whole before the row limit refused it."""
    import subprocess
    import sys
    import textwrap

    bomb = tmp_path / "bomb.parquet"
    bomb.write_bytes(_constant_parquet(5_000_000, "1"))
    assert bomb.stat().st_size < 200_000
    script = textwrap.dedent("""
        import json, sys
        from pathlib import Path
        import pyarrow as pa
        from bakery.ingest.readers import FileRejected, read_file
        try:
            read_file(Path(sys.argv[1]))
            out = {"rule": None}
        except FileRejected as rej:
            out = {"rule": rej.rule, "reason": rej.reason}
        out["arrow_peak"] = pa.default_memory_pool().max_memory()
        print(json.dumps(out))
    """)
    done = subprocess.run(
        [sys.executable, "-c", script, str(bomb)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout)
    assert out["rule"] == "file:too_many_rows" and "5000000 rows (Parquet metadata)" in out["reason"]
    assert out["arrow_peak"] < 8 * 2**20  # decoding 5 M rows x 4 columns would take well over 100 MB


def test_parquet_strings_that_expand_past_the_limit_are_refused_before_they_are_built():
    data = _constant_parquet(2_000, "x" * 5_000, ("note",))  # ~10 MB of text in a few KB
    assert len(data) < 50_000
    with pytest.raises(FileRejected) as exc:
        read_bytes(data, "parquet", limits=_limits(max_decoded_bytes=2 * 2**20, batch_rows=500))
    assert exc.value.rule == "file:too_large_decoded" and "column 'note'" in exc.value.reason
    assert read_bytes(data, "parquet", limits=_limits(max_decoded_bytes=20 * 2**20)).num_rows == 2_000


def test_parquet_read_in_small_batches_gives_the_same_text():
    table = pa.table(
        {
            "d": pa.array([dt.date(2026, 1, i) for i in range(1, 8)]),
            "s": [f"S{i % 2}" for i in range(7)],
            "n": pa.array([[i, i + 1] for i in range(7)]),
            "b": pa.array([b"x", b"\xff"] * 3 + [None]),
            "t": pa.array([{"k": "v", "i": i} for i in range(7)]),
        }
    )
    data = _parquet(table)
    whole, batched = read_bytes(data, "parquet"), read_bytes(data, "parquet", limits=_limits(batch_rows=2))
    assert _rows(whole) == _rows(batched) and whole.num_rows == 7
    assert _rows(batched)[1] == ["2026-01-02", "S1", "[1, 2]", "\ufffd", '{"i": 1, "k": "v"}']


@pytest.mark.parametrize(
    ("fmt", "data", "rule"),
    [
        ("csv", b"a,b\n" + b"1,2\n" * 11, "file:too_many_rows"),
        ("csv", b"a,b,c,d,e\n1,2,3,4,5\n", "file:too_many_columns"),
        ("json", b'{"a": 1}\n' * 11, "file:too_many_rows"),
        ("json", b'{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}\n', "file:too_many_columns"),
        ("parquet", None, "file:too_many_rows"),
    ],
)
def test_files_over_the_row_or_column_limit_are_refused(fmt, data, rule):
    data = _parquet(pa.table({"a": list(range(11))})) if data is None else data
    for exact in (False, True):
        with pytest.raises(FileRejected) as exc:
            read_bytes(data, fmt, exact=exact, limits=_limits(max_rows=10, max_columns=4))
        assert exc.value.rule == rule and "ingest.max_" in exc.value.reason


def test_xlsx_rows_and_columns_are_counted_while_streaming_and_a_zip_bomb_is_refused_unopened():
    import zipfile

    wide = _xlsx([["a", "b"], ["x", "y", None, None, "far"]])
    with pytest.raises(FileRejected, match="columns in sheet row 2") as exc:
        read_bytes(wide, "xlsx", limits=_limits(max_columns=4))
    assert exc.value.rule == "file:too_many_columns"
    long = _xlsx([["a"], *[[str(i)] for i in range(12)], [None], [None]])
    with pytest.raises(FileRejected) as exc:
        read_bytes(long, "xlsx", limits=_limits(max_rows=10))
    assert exc.value.rule == "file:too_many_rows"
    assert read_bytes(long, "xlsx", limits=_limits(max_rows=12)).num_rows == 12
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (8 * 2**20))
    with pytest.raises(FileRejected) as exc:
        read_bytes(buf.getvalue(), "xlsx", limits=_limits(max_decoded_bytes=4 * 2**20))
    assert exc.value.rule == "file:zip_bomb"


def test_a_workbook_with_damaged_xml_is_rejected_not_raised():
    import zipfile

    good = _xlsx([["a"], ["x"]])
    src, buf = zipfile.ZipFile(io.BytesIO(good)), io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for info in src.infolist():
            body = src.read(info)
            out.writestr(info, body[: len(body) // 2] if info.filename == "xl/workbook.xml" else body)
    with pytest.raises(FileRejected) as exc:
        read_bytes(buf.getvalue(), "xlsx")
    assert exc.value.rule == "file:unreadable" and "XLSX" in exc.value.reason


def test_json_nested_too_deeply_or_with_a_huge_number_is_a_clear_rejection():
    with pytest.raises(FileRejected, match="nested too deeply") as exc:
        read_bytes(b"[" * 100_000 + b"]" * 100_000, "json")
    assert exc.value.rule == "file:unreadable"
    raw = read_bytes(b'{"a": 1}\n{"a": ' + b"9" * 5000 + b"}\n", "json")
    assert raw.malformed.to_pylist()[1].startswith("invalid JSON") and _rows(raw)[0] == ["1"]
    with pytest.raises(FileRejected, match="no JSON object"):
        read_bytes(b"!\n", "json")


def test_old_mac_line_ends_after_the_header_are_read_not_raised():
    raw = read_bytes(b'a,b\r1,"x"Y\n2,3\n', "csv")
    assert raw.headers == ["a", "b"] and _rows(raw) == [["1", "xY"], ["2", "3"]]
