"""The truth responds to the calendar, promotions, seasons, weather and stock the way the docs say."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd

from bakery.generate.demand import expected_demand
from bakery.generate.events import event_effects
from bakery.generate.params import load_config
from bakery.generate.world import simulate


def _daily(truth: pd.DataFrame, store: str) -> pd.Series:
    rows = truth[(truth["store_id"] == store) & ~truth["closed"] & (truth["product_id"] != "P006")]
    return rows.groupby("date")["true_demand"].sum()


def test_weekday_profile_shows_in_true_demand(truth):
    daily = _daily(truth, "S001")
    by_weekday = daily.groupby(daily.index.weekday).mean()
    assert by_weekday[5] > 1.1 * by_weekday[1]  # urban shop: Saturday well above Tuesday


def test_closed_on_new_year_and_boosted_on_the_eve_of_epiphany(truth, clean_pos):
    new_year = truth[truth["date"] == "2026-01-01"]
    assert new_year["closed"].all()
    assert (new_year[["true_demand", "observed_sales"]] == 0).all().all()
    assert not (clean_pos["local_date"] == "2026-01-01").any()
    daily = _daily(truth, "S001")
    mondays = daily[(daily.index.weekday == 0) & (daily.index.month <= 2)]
    eve = mondays.loc["2026-01-05"]
    assert eve > 1.15 * mondays.drop(pd.Timestamp("2026-01-05")).mean()


def test_promotions_lift_demand_and_discount_the_till_price(truth, clean_pos, small_demo):
    open_rows = truth[~truth["closed"] & truth["offered"]]
    promo = open_rows["promotion_id"].notna()
    assert promo.any()
    ratios = []
    for _, grp in open_rows.groupby(["store_id", "product_id"]):
        on = grp["promotion_id"].notna()
        if on.any() and (~on).any():
            ratios.append(grp.loc[on, "true_demand"].mean() / grp.loc[~on, "true_demand"].mean())
    assert np.median(ratios) > 1.2
    products = pd.read_json(small_demo.out / "products" / "products.json").set_index("product_id")
    lines = clean_pos[clean_pos["promotion_applied_id"] != ""]
    assert len(lines) and (lines["price_unit"] < lines["product_id"].map(products["unit_price"])).all()


def test_seasonal_roscon_is_sold_only_in_its_window(truth, clean_pos):
    roscon = truth[truth["product_id"] == "P006"]
    in_window = roscon["date"] <= "2026-01-06"
    assert roscon.loc[in_window, "offered"].all() and not roscon.loc[~in_window, "offered"].any()
    assert (roscon.loc[~in_window, "true_demand"] == 0).all()
    sold_days = clean_pos.loc[clean_pos["product_id"] == "P006", "local_date"]
    assert len(sold_days) and sold_days.max() <= pd.Timestamp("2026-01-06")
    peak = roscon[roscon["date"] == "2026-01-05"]["true_demand"].sum()
    assert peak > 3 * roscon[roscon["date"] == "2026-01-02"]["true_demand"].sum()


def test_stockouts_cap_observed_sales_below_true_demand(truth):
    assert (truth["observed_sales"] <= truth["true_demand"] + 1e-9).all()
    out = truth[truth["stockout"]]
    assert (out["observed_sales"] < out["true_demand"]).all()
    live = truth[~truth["closed"] & truth["offered"]]
    assert 0.005 < live["stockout"].mean() < 0.15
    assert (
        truth.loc[~truth["stockout"], "observed_sales"] == truth.loc[~truth["stockout"], "true_demand"]
    ).all()


def test_sunday_closures_for_the_rural_shop_and_a_renovation(truth):
    first = truth[truth["product_id"] == "P001"].set_index(["store_id", "date"])["closed"]
    rural_sundays = first.loc["S002"][first.loc["S002"].index.weekday == 6]
    assert (
        rural_sundays[rural_sundays.index.month <= 3].all()
        and not rural_sundays[rural_sundays.index.month == 4].any()
    )
    assert first.loc["S002"].sum() > rural_sundays.sum()  # plus New Year and the renovation


def test_heat_moves_bread_down_and_cold_drinks_up_and_rain_keeps_city_customers_away():
    cfg = load_config()
    world = simulate(cfg, 1, 30, date(2026, 6, 1), date(2026, 6, 14), seed=5)
    effects = event_effects(cfg, world.stores, world.period)

    def demand(**weather):
        w = replace(
            world.weather, **{k: np.full_like(world.weather.temperature, v) for k, v in weather.items()}
        )
        return expected_demand(
            cfg,
            world.stores,
            world.products,
            world.period,
            world.calendar,
            effects,
            w,
            world.promotions,
            world.offer,
        ).sum(axis=2)[0]

    mild, hot, wet = (
        demand(temperature=20, precipitation=0),
        demand(temperature=35, precipitation=0),
        demand(temperature=20, precipitation=25),
    )
    ids = [p.product_id for p in world.products]
    assert hot[ids.index("P001")] < 0.9 * mild[ids.index("P001")]  # barra
    assert hot[ids.index("P027")] > 2 * mild[ids.index("P027")]  # horchata
    assert wet.sum() < 0.85 * mild.sum()  # S001 is an urban shop
