"""The nightly decisions step over real Delta tables: the overrides the app landed reach silver.bake_overrides by
override id (a rerun adds nothing), and gold.override_scores scores each override in force once its day has sales;
a second night writes the same rows."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pandas as pd
import pytest

from bakery.app.auth import Principal
from bakery.app.db import Database
from bakery.app.overrides import OverrideRequest, save_override
from bakery.decisions.costs import load_cost_model
from bakery.decisions.nightly import land_overrides, write_override_scores
from bakery.decisions.overrides import OverrideRules
from bakery.tables import BAKE_OVERRIDES, BAKE_PLAN, DAILY_SALES, FORECASTS, OVERRIDE_SCORES

DAY = date(2026, 5, 1)
MGR = Principal("marta", "manager", frozenset({"S01"}))


def _write(lh, table, rows: list[dict]) -> None:
    frame = pd.DataFrame(rows)
    for column in table.columns:
        if column not in frame:
            frame[column] = None
    lh.merge(lh.spark.createDataFrame(frame[table.columns], table.schema), *table, keys=list(table.keys))


def _plan_row(product: str, quantity: float) -> dict:
    return {
        "store_id": "S01",
        "product_id": product,
        "date": DAY,
        "as_of": DAY - timedelta(days=1),
        "quantity": quantity,
        "degraded": False,
        "cu": 0.85,
        "co": 0.25,
    }


def _sales_row(product: str, sold: float, stockout: bool) -> dict:
    return {
        "store_id": "S01",
        "product_id": product,
        "date": DAY,
        "quantity_sold": sold,
        "is_open": True,
        "is_offered": True,
        "status": "ok",
        "stockout": stockout,
        "promo": False,
    }


@pytest.fixture
def night(lh, settings, tmp_path):
    """A home with tomorrow's plan for three products, the day's sales of two (P2 sold out), the champion's D+1
    forecasts, and three overrides saved through the app (P1 twice: the second is in force)."""
    _write(lh, BAKE_PLAN, [_plan_row("P1", 10), _plan_row("P2", 10), _plan_row("P3", 6)])
    _write(lh, DAILY_SALES, [_sales_row("P1", 12, False), _sales_row("P2", 8, True)])
    forecasts = [
        {
            "as_of": DAY - timedelta(days=1),
            "store_id": "S01",
            "product_id": p,
            "date": DAY,
            "horizon": 1,
            "model": "prophet",
            "model_version": "1",
            "role": "champion",
            "yhat": yhat,
        }
        for p, yhat in (("P1", 11.0), ("P2", 13.0))
    ]
    _write(lh, FORECASTS, forecasts)
    db = Database(f"sqlite:///{tmp_path / 'app.db'}")
    rules = OverrideRules()
    for product, plan, quantity, note in (
        ("P1", 10, "30", "feria"),
        ("P1", 10, "14", None),
        ("P2", 10, "8", None),
        ("P3", 6, "7", None),
    ):
        req = OverrideRequest("S01", product, DAY, plan, quantity, "event", note, confirmed=True)
        save_override(settings, db, MGR, req, rules)
    return lh, settings


def test_overrides_land_once_and_are_scored_the_same_on_a_rerun(night, caplog):
    lh, settings = night
    bad = settings.landing_dir / "overrides" / "hand_edited.csv"
    bad.write_text(
        "override_id,store_id,product_id,date,plan_quantity,quantity,reason_code,note,username,created_at\n"
        "x1,S01,P1,2026-05-01,10,-4,event,,marta,2026-04-30T06:00:00+00:00\n",
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING):
        assert land_overrides(lh, settings) == 4
    assert "overrides/hand_edited.csv row 2 left out: quantity -4 is negative" in caplog.text
    version = lh.version(*BAKE_OVERRIDES)
    assert (
        land_overrides(lh, settings) == 0 and lh.version(*BAKE_OVERRIDES) == version
    )  # a rerun commits nothing
    landed = lh.read(*BAKE_OVERRIDES).toPandas()
    assert len(landed) == 4 and set(landed["username"]) == {"marta"}
    assert landed["source_file"].str.startswith("overrides/app_override_S01_").all()

    cost_model = load_cost_model(settings.conf_dir)
    assert write_override_scores(lh, DAY, cost_model) == 2  # P3 has no sales yet: it waits
    first = lh.read(*OVERRIDE_SCORES).toPandas().sort_values("product_id").reset_index(drop=True)
    p1, p2 = first.iloc[0], first.iloc[1]
    # P1: the later override (14) is in force; plan 10 at demand 12 lost 2 x 0.85, the override left 2 x 0.25.
    assert p1["quantity"] == 14 and p1["plan_quantity"] == 10 and p1["demand"] == 12
    assert p1["fva_eur"] == pytest.approx(1.20) and p1["reason_code"] == "event"
    # P2 sold out at 8: demand is the D+1 forecast's 13, so cutting to 8 lost 2 more sales than the plan would.
    assert p2["demand"] == 13 and p2["demand_censored"] and p2["fva_eur"] == pytest.approx(-2 * 0.85)
    assert write_override_scores(lh, DAY, cost_model) == 2
    again = lh.read(*OVERRIDE_SCORES).toPandas().sort_values("product_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(first, again)
    # A day before the overrides' has nothing to score.
    assert write_override_scores(lh, DAY - timedelta(days=1), cost_model) == 0


def test_a_plan_written_before_plans_carried_costs_gains_them_and_its_overrides_score_on_product_costs(
    lh, settings, tmp_path
):
    """An older gold.bake_plan (no cu, co) takes the new columns on the next night, its rows read them as null,
    and an override of such a row is scored with the product's costs from conf/bake_plan.yml (silver.products
    lacks it here: the default category's 2.00 EUR price, 35% cost, 5% salvage and 10% goodwill)."""
    old_schema = BAKE_PLAN.schema.replace(", cu double, co double", "")
    old = pd.DataFrame([_plan_row("P1", 10)]).drop(columns=["cu", "co"])
    columns = [c for c in BAKE_PLAN.columns if c not in ("cu", "co")]
    for column in columns:
        if column not in old:
            old[column] = None
    lh.merge(lh.spark.createDataFrame(old[columns], old_schema), *BAKE_PLAN, keys=list(BAKE_PLAN.keys))
    new = lh.spark.createDataFrame(
        pd.DataFrame([{**{c: None for c in BAKE_PLAN.columns}, **_plan_row("P9", 5)}])[BAKE_PLAN.columns],
        BAKE_PLAN.schema,
    )
    lh.add_missing_columns(*BAKE_PLAN, new.schema)
    lh.merge(new, *BAKE_PLAN, keys=list(BAKE_PLAN.keys))
    plan = lh.read(*BAKE_PLAN).toPandas().set_index("product_id")
    assert plan.loc["P9", "cu"] == 0.85 and pd.isna(plan.loc["P1", "cu"])

    _write(lh, DAILY_SALES, [_sales_row("P1", 12, False)])
    db = Database(f"sqlite:///{tmp_path / 'app.db'}")
    req = OverrideRequest("S01", "P1", DAY, 10, "14", "weather", None)
    save_override(settings, db, MGR, req, OverrideRules())
    assert land_overrides(lh, settings) == 1
    assert write_override_scores(lh, DAY, load_cost_model(settings.conf_dir)) == 1
    row = lh.read(*OVERRIDE_SCORES).toPandas().iloc[0]
    cu, co = 2.0 - 0.7 + 0.2, 0.7 - 0.1
    assert (row["cu"], row["co"]) == pytest.approx((cu, co))
    assert row["fva_eur"] == pytest.approx(2 * cu - 2 * co) and row["reason_code"] == "weather"
