"""build_gold: one atomic commit per table, nothing committed over unchanged silver, blocked sources keep gold."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bakery.config import load_settings
from bakery.gold.build import build_gold
from tests.gold.conftest import D, base_silver, cloned_home
from tests.gold.helpers import merge_silver, pos_lines, write_silver

GOLD = ("daily_sales", "features")


def _versions(lh) -> dict[str, int | None]:
    return lh.versions((t.layer, t.name) for t in lh.list_tables() if t.layer in ("silver", "gold"))


def _content(lh, name) -> list[tuple]:
    return sorted(tuple(r) for r in lh.read("gold", name).collect())


def test_rerun_over_unchanged_silver_commits_nothing(gold_home):
    lh, settings = gold_home
    before = _versions(lh)
    result = build_gold(lh, settings, blocked_sources=set())
    assert [(t.name, t.action) for t in result.tables] == [
        ("daily_sales", "unchanged"),
        ("features", "unchanged"),
    ]
    assert result.dictionary["commented"] == []
    assert _versions(lh) == before


def test_silver_rewritten_with_the_same_rows_rebuilds_identical_gold(gold_home):
    lh, settings = gold_home
    content = {name: _content(lh, name) for name in GOLD}
    daily_version = lh.version("gold", "daily_sales")
    write_silver(lh, "weather", base_silver().weather)  # a new silver version, same rows
    result = build_gold(lh, settings, blocked_sources=set())
    assert [(t.name, t.action) for t in result.tables] == [
        ("daily_sales", "unchanged"),
        ("features", "built"),
    ]
    assert lh.version("gold", "daily_sales") == daily_version
    assert {name: _content(lh, name) for name in GOLD} == content


def test_blocked_sources_keep_the_previous_gold_tables(spark, tmp_path, gold_home):
    lh, settings = cloned_home(spark, gold_home[1], tmp_path / "home")
    merge_silver(lh, "pos", pos_lines("S1", "P1", D[-1] + timedelta(days=1), [7.0]))
    before = {name: (lh.version("gold", name), _content(lh, name)) for name in GOLD}

    result = build_gold(lh, settings, blocked_sources={"pos_transactions"})  # table names work too
    assert result.ok and result.blocked_sources == ["pos"]
    assert [t.action for t in result.tables] == ["kept", "kept"]
    assert all("pos blocked" in line for line in result.summary_lines()[:2]), result.summary_lines()
    assert {name: (lh.version("gold", name), _content(lh, name)) for name in GOLD} == before

    result = build_gold(lh, settings, blocked_sources={"weather"})  # sales flow, features wait
    assert [t.action for t in result.tables] == ["built", "kept"]
    assert lh.read("gold", "daily_sales").count() == 82 and lh.read("gold", "features").count() == 80


def test_no_sales_in_silver_yet_is_not_an_error(lh, settings):
    result = build_gold(lh, settings, blocked_sources=set())
    assert result.ok and [t.action for t in result.tables] == ["skipped", "skipped"]
    assert not lh.exists("gold", "daily_sales")
    assert result.to_dict()["tables"][0]["reason"].startswith("no sales")


@pytest.mark.parametrize(
    "override,named",
    [
        ({"offered_window_days": 0}, "gold.offered_window_days"),
        ({"lags": [1, "7"]}, "gold.lags"),
        ({"rolling_windows": 28}, "gold.rolling_windows"),
    ],
)
def test_bad_gold_settings_are_named_before_anything_is_written(lh, tmp_path, override, named):
    settings = load_settings(home=tmp_path / "home", overrides={"gold": override})
    with pytest.raises(ValueError, match=named):
        build_gold(lh, settings, blocked_sources=set())
    assert not lh.list_tables()
