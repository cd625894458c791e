"""Injected defects: what the summary counts is exactly what the files contain, at the recorded rows."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from bakery.generate.defects import RATE_DEFECTS
from tests.generate._read import csv_rows, raw_lines
from tests.generate.conftest import pos_files


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def classify(fields: list[str]) -> str | None:
    """Which defect a POS row shows when read as a client would, or None for a valid row."""
    if len(fields) != 8:
        return "malformed_field_count"
    if any(_number(v) is None for v in fields[4:7]):
        return "malformed_number"
    try:
        datetime.fromisoformat(fields[1])
    except ValueError:
        return "malformed_timestamp"
    if float(fields[4]) < 0:
        return "negative_quantity"
    if float(fields[4]) > 1000:
        return "absurd_quantity"
    return None


def _scan(out: Path) -> tuple[Counter, dict[tuple[str, int], str]]:
    counts: Counter = Counter()
    found: dict[tuple[str, int], str] = {}
    seen: dict[str, dict[str, str]] = {}
    for path in pos_files(out):
        rel = path.relative_to(out).as_posix()
        store = path.name.split("_")[1]
        earlier = seen.setdefault(store, {})
        for n, (line, fields) in enumerate(zip(raw_lines(path), csv_rows(path), strict=True), start=1):
            kind = classify(fields)
            if line in earlier:
                kind = "duplicate_same_file" if earlier[line] == rel else "duplicate_next_file"
            earlier.setdefault(line, rel)
            if kind:
                counts[kind] += 1
                found[(rel, n)] = kind
    return counts, found


def test_defect_counts_match_the_files(small_demo, defects):
    counts, found = _scan(small_demo.out)
    for kind in (*RATE_DEFECTS, "duplicate_next_file"):
        assert counts[kind] == small_demo.defects[kind] > 0, kind
    recorded = defects[defects["source"] == "pos"].dropna(subset=["row_number"])
    assert {
        (f, int(r)): d
        for f, r, d in zip(recorded["file"], recorded["row_number"], recorded["defect"], strict=True)
    } == found
    assert Counter(defects["defect"]) == Counter(
        {k: v for k, v in small_demo.defects.items() if k != "late_rows"}
    )


def test_duplicates_point_at_the_row_they_copy(small_demo, defects):
    dups = defects[defects["defect"].str.startswith("duplicate")]
    for rel, row, detail in zip(dups["file"], dups["row_number"], dups["detail"], strict=True):
        words = detail.split()
        original_row, original_file = int(words[4]), words[6]
        copy = raw_lines(small_demo.out / rel)[row - 1]
        assert raw_lines(small_demo.out / original_file)[original_row - 1] == copy


@pytest.mark.parametrize("shape", ["malformed_field_count", "malformed_number", "malformed_timestamp"])
def test_every_malformed_shape_shows_up(small_demo, defects, shape):
    details = set(defects.loc[defects["defect"] == shape, "detail"])
    assert details, shape


def test_defect_rates_come_from_the_config(tmp_path):
    from datetime import date

    from bakery.generate import generate_demo

    none = {k: 0.0 for k in RATE_DEFECTS}
    summary = generate_demo(
        tmp_path / "clean",
        stores=1,
        products=2,
        start=date(2026, 1, 1),
        end=date(2026, 2, 10),
        seed=1,
        config={
            "defects": {"pos": {**none, "min_per_store": 0, "duplicate_next_file": {"probability": 0.0}}}
        },
    )
    counts, _ = _scan(summary.out)
    assert not counts
    assert all(summary.defects.get(k, 0) == 0 for k in (*RATE_DEFECTS, "duplicate_next_file"))
