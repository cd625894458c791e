"""gold.features: exact lags and trailing means, weather and attributes, and no feature of day d uses data after d."""

from __future__ import annotations

import pytest

from bakery.gold.build import build_gold
from tests.gold.conftest import D, base_silver, cloned_home


def _features(lh, product=None) -> dict:
    rows = lh.read("gold", "features").collect()
    return {(r.product_id, D.index(r.date)): r for r in rows if product in (None, r.product_id)}


def test_lags_are_calendar_days_back_and_null_without_an_observation(gold_home):
    f = _features(gold_home[0], "P1")
    assert f[("P1", 3)].lag_1 is None  # D2 closed
    assert f[("P1", 4)].lag_1 == 4.0
    assert f[("P1", 7)].lag_1 == 0.0  # D6 open, no row: a zero
    assert f[("P1", 7)].lag_7 == 1.0
    assert f[("P1", 9)].lag_7 is None
    assert f[("P1", 30)].lag_28 is None and f[("P1", 31)].lag_28 == 4.0
    assert f[("P1", 0)].lag_1 is None and f[("P1", 2)].y is None and f[("P1", 6)].y == 0.0


def test_rolling_means_use_the_days_before_only(gold_home):
    f = _features(gold_home[0], "P1")
    assert f[("P1", 0)].rmean_7 is None
    assert f[("P1", 1)].rmean_7 == 1.0
    assert f[("P1", 8)].rmean_7 == pytest.approx((2 + 4 + 5 + 6 + 0 + 0) / 6)
    assert f[("P1", 9)].rmean_28 == pytest.approx((1 + 2 + 4 + 5 + 6 + 0 + 0 + 4) / 8)


def test_rows_carry_weather_calendar_promo_stockout_and_attributes(gold_home):
    f = _features(gold_home[0])
    r = f[("P1", 14)]  # 2026-05-15, San Isidro
    assert (r.unique_id, r.temperature, r.precipitation, r.weather_condition_code) == ("S1/P1", 24.0, 2.0, 3)
    assert r.is_holiday and r.is_local_holiday and f[("P1", 13)].is_holiday_eve
    assert (r.store_type, r.city, r.country, r.subdivision, r.category, r.unit_price) == (
        "urban",
        "Madrid",
        "ES",
        "ES-MD",
        "bread",
        1.2,
    )
    assert f[("P1", 4)].stockout and not f[("P1", 5)].stockout
    assert f[("P2", 10)].promo and not f[("P2", 11)].promo
    assert f[("P1", 19)].is_event and f[("P1", 19)].day_events == "Book fair"
    assert (f[("P1", 2)].is_open, f[("P1", 3)].is_open) == (False, True)
    assert f[("P2", 0)].product_age_days == 30  # launched 2026-04-01
    assert f[("P1", 0)].product_age_days == 0 and f[("P1", 9)].product_age_days == 9  # first sale
    assert len(f) == 80


def test_changing_data_after_d_never_changes_features_at_d(spark, tmp_path, gold_home):
    d = 7
    data = base_silver()
    data.pos = [
        p
        for p in data.pos
        if D.index(p["local_date"]) <= d or (p["product_id"] == "P2" and D.index(p["local_date"]) != 20)
    ]  # P1 gone, D20 closed
    data.pos += [
        {
            **p,
            "transaction_id": p["transaction_id"] + "b",
            "quantity_sold": 9.0,
            "total_amount": 9.0,
            "promotion_applied_id": "LATE",
        }
        for p in data.pos
        if D.index(p["local_date"]) > d
    ]
    data.weather = [
        w if D.index(w["date"]) <= d else {**w, "temperature": -5.0, "precipitation": 40.0}
        for w in data.weather
    ]
    data.stockouts += [("P2", i) for i in range(d + 1, 40)]
    lh, settings = cloned_home(spark, gold_home[1], tmp_path / "home")
    data.write_facts(lh)
    assert [t.action for t in build_gold(lh, settings, blocked_sources=set()).tables] == ["built", "built"]

    before, after = _features(gold_home[0]), _features(lh)
    features = [c for c in lh.read("gold", "features").columns if c != "y"]
    for key in [k for k in before if k[1] <= d]:
        assert [before[key][c] for c in features] == [after[key][c] for c in features], key
    # The test has teeth: the later data did change what is known about day 6 (no sale of P1 ever after,
    # so its missing row is now "not offered" rather than a zero) without touching any feature of day <= d.
    assert (before[("P1", 6)].y, after[("P1", 6)].y) == (0.0, None)
    assert before[("P1", d)].lag_1 == after[("P1", d)].lag_1 == 0.0
