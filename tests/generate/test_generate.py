"""generate_demo as a whole: every source with its template columns, valid values, determinism, layout."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from bakery.config import load_settings
from bakery.generate import generate_demo
from tests.conftest import SMALL_END, SMALL_START
from tests.generate._read import header, raw_lines, records

SPECS = load_settings(home=Path("unused")).sources
KINDS = [kind for kind in SPECS if kind != "sales"]
EXPECTED_FORMATS = {
    "stores": ".csv",
    "products": ".json",
    "pos": ".csv",
    "inventory": ".json",
    "deliveries": ".csv",
    "weather": ".csv",
    "traffic": ".parquet",
    "events": ".csv",
    "ingredients": ".xlsx",
}


def _valid(value, col) -> bool:
    if value is None:
        return not col.required
    text = str(value)
    if col.type == "date":
        date.fromisoformat(text)
    elif col.type == "timestamp":
        if datetime.fromisoformat(text).tzinfo is None:
            return False
    elif col.type in ("double", "long"):
        number = float(value)
        if col.type == "long" and not number.is_integer():
            return False
        if (col.min is not None and number < col.min) or (col.max is not None and number > col.max):
            return False
    if col.values and text not in col.values:
        return False
    return not (col.pattern and not re.match(col.pattern, text))


@pytest.mark.parametrize("kind", KINDS)
def test_every_source_is_written_with_the_template_columns(small_demo, kind):
    files = sorted((small_demo.out / kind).iterdir())
    assert files, f"no {kind} files"
    assert {f.suffix for f in files} == {EXPECTED_FORMATS[kind]}
    for path in files:
        assert header(path) == SPECS[kind].column_names, path


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "pos"])
def test_every_row_of_the_other_sources_satisfies_the_spec(small_demo, kind):
    spec = SPECS[kind]
    for path in sorted((small_demo.out / kind).iterdir()):
        rows = records(path)
        assert rows, path
        for n, row in enumerate(rows, start=1):
            bad = [c.name for c in spec.columns if not _valid(row.get(c.name), c)]
            assert not bad, f"{path.name} row {n}: {bad} in {row}"


def test_clean_pos_rows_satisfy_the_spec(clean_pos):
    spec = SPECS["pos"]
    for row in clean_pos[spec.column_names].replace({"": None}).to_dict("records"):
        for col in spec.columns:
            value = row[col.name]
            assert _valid(None if value != value else value, col), (col.name, row)


def test_summary_describes_what_was_written(small_demo):
    s = small_demo
    assert (s.stores, s.products, s.start, s.end) == (2, 8, SMALL_START, SMALL_END)
    landing = [p for p in s.out.rglob("*") if p.is_file() and p.relative_to(s.out).parts[0] != "_truth"]
    assert s.files == len(landing)
    assert set(s.rows) == set(KINDS)
    assert s.rows["stores"] == 2 and s.rows["products"] == 8
    assert s.truth_path == s.out / "_truth" / "demand.parquet" and s.truth_path.exists()
    text = s.render()
    assert str(s.out) in text and "pos" in text and "duplicate_same_file" in text


def test_late_pos_file_holds_the_last_days_of_one_store(small_demo, clean_pos):
    late = small_demo.late_files
    assert late and all(p.is_absolute() and p.exists() for p in late)
    assert small_demo.defects["late_file"] == len(late)
    for path in late:
        assert path.parent == small_demo.out / "_late" / "pos"
        assert path.name.endswith("_late.csv")
        assert not (small_demo.out / "pos" / path.name).exists()
    late_rel = {p.relative_to(small_demo.out).as_posix() for p in late}
    in_late = clean_pos["file"].isin(late_rel)
    assert sum(len(raw_lines(p)) for p in late) == small_demo.defects["late_rows"]
    last_days = clean_pos["local_date"] >= pd.Timestamp(SMALL_END) - pd.Timedelta(days=1)
    store = clean_pos.loc[in_late, "store_id"].unique().tolist()
    assert store == ["S002"]
    assert last_days[in_late].all()
    assert not (last_days & ~in_late & (clean_pos["store_id"] == "S002")).any()


def test_weather_misses_exactly_one_store_day_and_reaches_past_the_end(small_demo, defects):
    gaps = defects[defects["defect"] == "missing_day"]
    assert len(gaps) == 1 and small_demo.defects["missing_day"] == 1
    per_store = {}
    for path in (small_demo.out / "weather").iterdir():
        for row in records(path):
            per_store.setdefault(row["store_id"], set()).add(row["date"])
    days = (SMALL_END - SMALL_START).days + 1
    counts = {sid: len({d for d in dates if d <= SMALL_END.isoformat()}) for sid, dates in per_store.items()}
    assert sorted(counts.values()) == [days - 1, days]
    assert max(max(d) for d in per_store.values()) > SMALL_END.isoformat()


def test_same_arguments_give_identical_bytes(tmp_path):
    args = {"stores": 2, "products": 3, "start": date(2026, 1, 1), "end": date(2026, 2, 5), "seed": 3}
    first = generate_demo(tmp_path / "a", **args)
    second = generate_demo(tmp_path / "b", **args)
    files_a = sorted(p.relative_to(first.out) for p in first.out.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(second.out) for p in second.out.rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        assert (first.out / rel).read_bytes() == (second.out / rel).read_bytes(), rel
    assert generate_demo(tmp_path / "c", **{**args, "seed": 4}).rows != first.rows


def test_last_days_can_arrive_as_daily_files_with_the_same_rows(tmp_path):
    args = {"stores": 2, "products": 3, "start": date(2026, 1, 1), "end": date(2026, 2, 5), "seed": 3}
    monthly = generate_demo(tmp_path / "m", **args)
    daily = generate_demo(tmp_path / "d", **args, daily_days=2)
    # POS defects are injected per file (an overlapping row at a file boundary), so POS may differ by a few rows.
    assert {k: v for k, v in daily.rows.items() if k != "pos"} == {
        k: v for k, v in monthly.rows.items() if k != "pos"
    }
    assert abs(daily.rows["pos"] - monthly.rows["pos"]) <= 4
    for day in ("2026-02-04", "2026-02-05"):
        names = sorted(p.relative_to(daily.out).as_posix() for p in daily.out.rglob(f"*{day}*"))
        assert f"pos/pos_S001_{day}.csv" in names and f"deliveries/deliveries_{day}.csv" in names, names
        assert f"traffic/traffic_{day}.parquet" in names, names
        dates = [r["timestamp"][:10] for r in records(daily.out / "pos" / f"pos_S001_{day}.csv")]
        before = (date.fromisoformat(day) - timedelta(days=1)).isoformat()
        # The day's rows (and, where the overlap defect struck, a repeat of the previous file's last rows).
        assert dates.count(day) > 0.9 * len(dates) and set(dates) <= {day, before}
    month = {r["timestamp"][:10] for r in records(daily.out / "pos" / "pos_S001_2026-02.csv")}
    assert "2026-02-03" in month and not month & {"2026-02-04", "2026-02-05"}
    with pytest.raises(ValueError, match="daily_days must be between 0 and"):
        generate_demo(tmp_path / "x", **args, daily_days=36)


def test_regenerating_replaces_the_previous_run_but_no_other_file(tmp_path):
    args = {"stores": 1, "products": 2, "start": date(2026, 1, 1), "end": date(2026, 2, 5), "seed": 3}
    out = generate_demo(tmp_path / "land", **args).out
    (out / "pos" / "uploaded_by_hand.csv").write_text("keep me")
    generate_demo(out, **{**args, "end": date(2026, 1, 20)})
    names = [p.name for p in out.rglob("*") if p.is_file()]
    assert "uploaded_by_hand.csv" in names
    assert not [n for n in names if "2026-02" in n]


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"products": 0}, "products"),
        ({"products": 31}, "products"),
        ({"stores": 0}, "stores"),
        ({"start": date(2026, 2, 1)}, "after"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_arguments_are_refused_naming_the_parameter(tmp_path, kwargs, word):
    args = {
        "stores": 1,
        "products": 2,
        "start": date(2026, 1, 1),
        "end": date(2026, 1, 5),
        "seed": 1,
        **kwargs,
    }
    with pytest.raises(ValueError, match=word):
        generate_demo(tmp_path / "x", **args)
    assert not (tmp_path / "x").exists()
