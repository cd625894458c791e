"""The newsvendor cost model and the bake policies the decision backtest compares (pure, no Spark)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bakery.decisions.backtest import decision_pairs, decision_report, money_report
from bakery.decisions.costs import CostError, load_cost_model, money_cost, newsvendor_cost, product_costs
from bakery.decisions.policies import last_week, round_to_batches, saa, same_weekday_history
from bakery.models.config import load_model_config
from bakery.models.quantiles import apply_offsets

CFG = load_model_config()


def test_newsvendor_cost_weighs_short_by_r_and_over_by_one_minus_r():
    assert newsvendor_cost([10.0], [7.0], 0.9)[0] == pytest.approx(2.7)
    assert newsvendor_cost([10.0], [12.0], 0.9)[0] == pytest.approx(0.2)
    lost, waste = money_cost([10.0, 10.0], [7.0, 12.0], 1.5, 0.4)
    assert list(lost) == pytest.approx([4.5, 0.0]) and list(waste) == pytest.approx([0.0, 0.8])


def test_product_costs_from_price_and_category_defaults():
    model = load_cost_model()
    products = pd.DataFrame(
        {"product_id": ["P1", "P2"], "category": ["bread", "no-such-category"], "unit_price": [1.0, None]}
    )
    costs = product_costs(products, model).set_index("product_id")
    bread = model.categories["bread"]
    assert costs.loc["P1", "unit_cost"] == pytest.approx(bread["cost_share"])
    cu = 1.0 - bread["cost_share"] + bread["goodwill_share"]
    co = bread["cost_share"] - bread["salvage_share"]
    assert costs.loc["P1", "critical_ratio"] == pytest.approx(cu / (cu + co))
    assert costs.loc["P1", "cost_source"] == "product"
    assert costs.loc["P2", "unit_price"] == model.categories["default"]["unit_price"]
    assert costs.loc["P2", "cost_source"] == "default"


def test_recipes_priced_with_the_ingredients_give_the_unit_cost_and_follow_the_prices():
    raw = {
        "categories": {
            "default": {"unit_price": 2, "cost_share": 0.3},
            "bread": {"unit_price": 1, "cost_share": 0.3},
        },
        "recipes": {
            "ingredients_share": 0.5,
            "categories": {"bread": {"FLOUR": 0.3, "SALT": 0.01}},
            "products": {"P3": {"FLOUR": 0.5}},
        },
        "products": {"P4": {"unit_cost": 0.9}},
    }
    model = load_cost_model(raw=raw)
    products = pd.DataFrame(
        {
            "product_id": ["P1", "P2", "P3", "P4"],
            "category": ["bread", "cakes", "bread", "bread"],
            "unit_price": 2.0,
        }
    )
    costs = product_costs(products, model, {"FLOUR": 1.0, "SALT": 0.5}).set_index("product_id")
    assert costs.loc["P1", "unit_cost"] == pytest.approx((0.3 * 1.0 + 0.01 * 0.5) / 0.5)
    assert costs.loc["P3", "unit_cost"] == pytest.approx(0.5 / 0.5)  # its own recipe wins over its category's
    assert costs.loc["P4", "unit_cost"] == pytest.approx(0.9)  # its own unit_cost wins over any recipe
    assert costs["cost_source"].to_dict() == {
        "P1": "recipe",
        "P2": "product",
        "P3": "recipe",
        "P4": "product",
    }
    dearer = product_costs(products, model, {"FLOUR": 2.0, "SALT": 0.5}).set_index("product_id")
    assert dearer.loc["P1", "unit_cost"] > costs.loc["P1", "unit_cost"]
    assert dearer.loc["P1", "critical_ratio"] < costs.loc["P1", "critical_ratio"]  # dearer flour: bake fewer
    unpriced = product_costs(products, model, {"FLOUR": 1.0}).set_index("product_id")  # no price for SALT
    assert (
        unpriced.loc["P1", "unit_cost"] == pytest.approx(2.0 * 0.3)
        and unpriced.loc["P1", "cost_source"] == "product"
    )
    with pytest.raises(CostError, match="recipes.categories.bread: FLOUR must be a non-negative"):
        load_cost_model(raw={**raw, "recipes": {"categories": {"bread": {"FLOUR": -1}}}})
    with pytest.raises(CostError, match="ingredients_share must lie in"):
        load_cost_model(raw={**raw, "recipes": {"ingredients_share": 0}})


def test_absurd_or_negative_costs_are_refused_naming_the_product():
    raw = {
        "categories": {"default": {"unit_price": 2, "cost_share": 0.3}},
        "products": {"P9": {"unit_cost": 50}},
    }
    with pytest.raises(CostError, match="P9.*unit_cost 50.00 is more than 3 x"):
        product_costs(
            pd.DataFrame({"product_id": ["P9"], "category": ["x"], "unit_price": [1.0]}),
            load_cost_model(raw=raw),
        )
    raw["products"] = {"P8": {"unit_cost": -1}}
    with pytest.raises(CostError, match="products.P8: unit_cost must be a non-negative"):
        load_cost_model(raw=raw)
    with pytest.raises(CostError, match="product 'P7'.*negative"):
        product_costs(
            pd.DataFrame({"product_id": ["P7"], "category": ["x"], "unit_price": [-2.0]}),
            load_cost_model(raw={"categories": {"default": {"unit_price": 2, "cost_share": 0.3}}}),
        )


def test_history_policies_last_week_and_saa():
    days = pd.date_range("2024-01-01", periods=70, freq="D")
    sales = pd.DataFrame({"unique_id": "s", "ds": days, "y": np.arange(70, dtype=float)})
    sales = sales[sales["ds"] != pd.Timestamp("2024-03-04")]  # shut a week before the target
    pairs = pd.DataFrame({"unique_id": ["s"], "ds": [pd.Timestamp("2024-03-11")]})
    hist = same_weekday_history(pairs, sales, 8)
    assert np.isnan(hist[0, 0]) and hist[0, 1] == 56.0  # 2024-02-26 is day 56
    assert last_week(hist)[0] == 56.0
    # 7 observed values 56, 49, ..., 14: the 0.5-quantile by the inverted CDF is the 4th smallest
    assert saa(hist, 0.5)[0] == 35.0 and saa(hist, 0.95)[0] == 56.0
    assert list(round_to_batches([0.0, 1.0, 13.0, 12.0], 6)) == [0.0, 6.0, 18.0, 12.0]


def _backtest_rows() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two years of weekday-seasonal demand and D+1 rows whose forecast is the true mean (an ideal model)."""
    rng = np.random.default_rng(0)
    days = pd.date_range("2023-01-02", periods=420, freq="D")
    mean = 50 + 20 * (days.dayofweek >= 5)
    sales = pd.DataFrame(
        {"unique_id": "s", "product_id": "P1", "ds": days, "y": rng.poisson(mean * 1.0).astype(float)}
    )
    ds = days[100:]
    rows = pd.DataFrame(
        {
            "unique_id": "s",
            "store_id": "S1",
            "product_id": "P1",
            "cutoff": ds - pd.Timedelta(days=1),
            "ds": ds,
            "horizon": 1,
            "y": sales["y"].to_numpy()[100:],
            "champion": (mean[100:]).astype(float),
        }
    )
    sd = np.sqrt(rows["champion"])
    rows["champion_lower"], rows["champion_upper"] = (
        rows["champion"] - 1.2816 * sd,
        rows["champion"] + 1.2816 * sd,
    )
    return apply_offsets(rows, None, CFG, "champion", "champion_lower", "champion_upper"), sales


def test_decision_report_plan_beats_point_forecast_at_high_ratios_and_perfect_costs_nothing():
    rows, sales = _backtest_rows()
    pairs = decision_pairs(rows, sales, "champion")
    rep = decision_report(pairs, [0.5, 0.9], CFG, "champion")
    assert set(rep) == {"0.5", "0.9"}
    assert set(rep["0.9"]) == {"plan", "point_forecast", "last_week", "saa", "perfect"}
    assert rep["0.9"]["perfect"]["cost_per_day"] == 0 and rep["0.9"]["plan"]["n"] == len(pairs)
    assert rep["0.9"]["plan"]["cost_per_day"] < 0.8 * rep["0.9"]["point_forecast"]["cost_per_day"]
    assert rep["0.9"]["plan"]["cost_per_day"] < rep["0.9"]["last_week"]["cost_per_day"]
    assert rep["0.5"]["plan"]["cost_per_day"] == pytest.approx(
        rep["0.5"]["point_forecast"]["cost_per_day"], rel=0.05
    )


def test_decision_report_in_euros_against_true_demand():
    rows, sales = _backtest_rows()
    truth = rows[["store_id", "product_id", "ds"]].assign(
        y=rows["y"] + 5
    )  # sales censored below the true demand
    pairs = decision_pairs(rows, sales, "champion", demand=truth)
    assert (pairs["y"] == rows["y"].to_numpy()[: len(pairs)] + 5).all()
    costs = product_costs(
        pd.DataFrame({"product_id": ["P1"], "category": ["bread"], "unit_price": [2.0]}), load_cost_model()
    )
    rep = decision_report(pairs, [0.9], CFG, "champion", costs=costs)
    money = money_report(pairs, CFG, "champion", costs)
    assert money["perfect"]["cost_eur_per_day"] == 0
    plan, point = money["plan"], money["point_forecast"]
    assert plan["cost_eur_per_day"] == pytest.approx(
        plan["waste_eur_per_day"] + plan["lost_margin_eur_per_day"], abs=1e-3
    )
    assert plan["cost_eur_per_day"] < point["cost_eur_per_day"]
    assert "cost_eur_per_day" in rep["0.9"]["plan"]


def test_decisions_need_horizon_one():
    rows, sales = _backtest_rows()
    with pytest.raises(ValueError, match="include 1 in --horizons"):
        decision_pairs(rows.assign(horizon=7), sales, "champion")


def _forecast(**extra) -> pd.DataFrame:
    base = {
        "store_id": "S1",
        "product_id": "P1",
        "date": pd.Timestamp("2024-03-02"),
        "as_of": pd.Timestamp("2024-03-01"),
        "horizon": 1,
        "yhat": 100.0,
        "yhat_lower": 80.0,
        "yhat_upper": 120.0,
        "model_version": "3",
    }
    return pd.DataFrame([base | extra])


def _costs(**own) -> pd.DataFrame:
    raw = {
        "categories": {"default": {"unit_price": 2.0, "cost_share": 0.3, "goodwill_share": 0.1}},
        "products": {"P1": own} if own else {},
    }
    return product_costs(
        pd.DataFrame({"product_id": ["P1"], "category": ["x"], "unit_price": [None]}),
        load_cost_model(raw=raw),
    )


def test_the_plan_bakes_the_critical_quantile_net_of_stock_in_whole_batches():
    from bakery.decisions.plan import make_plan

    products = pd.DataFrame({"product_id": ["P1"], "shelf_life_days": [3]})
    stock = pd.DataFrame({"store_id": ["S1"], "product_id": ["P1"], "closing_stock": [7.0]})
    costs = _costs(batch_size=12)
    ratio = costs["critical_ratio"].iloc[0]  # (2 - 0.6 + 0.2) / (1.6 + 0.6) = 0.727
    assert ratio == pytest.approx(1.6 / 2.2)
    plan = make_plan(_forecast(), costs, stock, products, CFG).iloc[0]
    assert plan["quantile_level"] == pytest.approx(ratio) and plan["quantile"] > plan["forecast"]
    assert plan["carried_over"] == 7.0
    assert plan["quantity"] % 12 == 0 and 0 <= plan["quantity"] - (plan["quantile"] - 7) < 12
    assert plan["batches"] == plan["quantity"] / 12
    assert plan["cost_source"] == "default" and not plan["degraded"]
    assert (
        plan["reason"].startswith("+")
        and "bandejas de 12" in plan["reason"]
        and "-7 que quedan" in plan["reason"]
    )


def test_the_plan_respects_the_display_minimum_and_one_day_goods_carry_nothing():
    from bakery.decisions.plan import make_plan

    products = pd.DataFrame({"product_id": ["P1"], "shelf_life_days": [1]})
    stock = pd.DataFrame({"store_id": ["S1"], "product_id": ["P1"], "closing_stock": [30.0]})
    plan = make_plan(
        _forecast(yhat=2.0, yhat_lower=0.0, yhat_upper=4.0), _costs(display_min=10), stock, products, CFG
    )
    assert plan["carried_over"].iloc[0] == 0 and plan["quantity"].iloc[0] == 10
    assert "mínimo de exposición 10" in plan["reason"].iloc[0]


def test_a_plan_on_unknown_stock_or_an_old_forecast_says_it_is_degraded():
    from bakery.decisions.plan import make_plan

    products = pd.DataFrame({"product_id": ["P1"], "shelf_life_days": [3]})
    no_stock = pd.DataFrame(columns=["store_id", "product_id", "closing_stock"])
    plan = make_plan(_forecast(), _costs(), no_stock, products, CFG).iloc[0]
    assert plan["degraded"] and plan["degraded_reason"].startswith("sin inventario de ayer")
    # A product missing from the records of a store that was counted had no stock: not degraded.
    other = pd.DataFrame({"store_id": ["S1"], "product_id": ["P2"], "closing_stock": [4.0]})
    plan = make_plan(_forecast(), _costs(), other, products, CFG).iloc[0]
    assert not plan["degraded"] and plan["carried_over"] == 0
    plan = make_plan(
        _forecast(), _costs(), no_stock, products, CFG, degraded="previsión del 2024-02-29"
    ).iloc[0]
    assert plan["degraded_reason"].startswith("previsión del 2024-02-29; sin inventario")


def test_the_ledger_identity_and_lost_sales_in_units_and_euros():
    from bakery.decisions.ledger import make_ledger

    day = pd.Timestamp("2024-03-02")
    inventory = pd.DataFrame(
        {
            "store_id": ["S1", "S1"],
            "product_id": ["P1", "P1"],
            "date": [day, day + pd.Timedelta(days=1)],
            "opening_stock": [5.0, 0.0],
            "delivered": [40.0, 30.0],
            "sold": [38.0, 30.0],
            "closing_stock": [0.0, 0.0],
            "correction": [0.0, 0.0],
            "stockout": [False, True],
        }
    )
    forecasts = pd.DataFrame(
        {"store_id": ["S1"], "product_id": ["P1"], "date": [day + pd.Timedelta(days=1)], "yhat": [36.0]}
    )
    costs = _costs()
    ledger = make_ledger(inventory, forecasts, costs)
    assert list(ledger["wasted"]) == [7.0, 0.0] and list(ledger["lost_sales"]) == [0.0, 6.0]
    c = costs.iloc[0]
    assert ledger["wasted_eur"].iloc[0] == pytest.approx(7 * (c["unit_cost"] - c["salvage_value"]))
    assert ledger["lost_sales_eur"].iloc[1] == pytest.approx(6 * c["cu"])
    assert ledger["sold_eur"].iloc[1] == pytest.approx(30 * c["unit_price"])
