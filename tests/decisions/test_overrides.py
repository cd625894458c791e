"""Override rules and scoring, pure pandas: what a manager's change cost against the plan's quantity at the day's
demand (sales, or the censored-demand estimate of a stock-out day), the latest override in force, and the FVA per
manager and per reason."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from bakery.decisions.overrides import (
    OverrideError,
    OverrideRules,
    check_override,
    fva_summary,
    load_override_rules,
    needs_confirmation,
    score_overrides,
)

DAY = date(2026, 5, 1)
RULES = OverrideRules(confirm_factor=1.5, max_quantity=5000)


def _override(
    oid: str, product: str, quantity: float, *, by: str = "mgr", reason: str = "event", at: int = 6
):
    return {
        "override_id": oid,
        "store_id": "S01",
        "product_id": product,
        "date": DAY,
        "plan_quantity": 10.0,
        "quantity": quantity,
        "reason_code": reason,
        "note": None,
        "username": by,
        "created_at": datetime(2026, 4, 30, at),
    }


def _plan(**rows: tuple[float, float | None, float | None]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"store_id": "S01", "product_id": p, "date": DAY, "quantity": q, "cu": cu, "co": co}
            for p, (q, cu, co) in rows.items()
        ]
    )


def _actuals(**rows: tuple[float, bool, float | None]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"store_id": "S01", "product_id": p, "date": DAY, "sold": s, "stockout": out, "yhat": yhat}
            for p, (s, out, yhat) in rows.items()
        ]
    )


def test_a_known_case_by_hand_plan_10_override_14_demand_12():
    # Plan 10 is 2 short at 0.85 each; the override's 14 leaves 2 over at 0.25 each: the manager saved 1.20 EUR.
    scores = score_overrides(
        pd.DataFrame([_override("a", "P1", 14)]), _plan(P1=(10, 0.85, 0.25)), _actuals(P1=(12, False, 11.0))
    )
    row = scores.iloc[0]
    assert row["plan_quantity"] == 10 and row["quantity"] == 14 and row["demand"] == 12
    assert row["plan_cost"] == pytest.approx(1.70, abs=1e-12)
    assert row["override_cost"] == pytest.approx(0.50, abs=1e-12)
    assert row["fva_eur"] == pytest.approx(1.20, abs=1e-12)
    assert row["fva_units"] == 0  # both 2 units off: the euros differ because a lost sale costs more
    assert not row["demand_censored"]


def test_a_stock_out_day_scores_against_the_censored_demand_and_without_it_is_not_scored():
    overrides = pd.DataFrame([_override("a", "P1", 8), _override("b", "P2", 20)])
    plan = _plan(P1=(10, 0.85, 0.25), P2=(10, 0.85, 0.25))
    # P1 sold out at 8 with a forecast of 13: demand 13, so cutting to 8 cost 5 lost sales where the plan lost 3.
    # P2 sold out with no forecast: its demand is unknown, and it is not scored rather than scored wrong.
    scores = score_overrides(overrides, plan, _actuals(P1=(8, True, 13.0), P2=(10, True, None)))
    assert list(scores["product_id"]) == ["P1"]
    row = scores.iloc[0]
    assert row["demand"] == 13 and row["demand_censored"]
    assert row["plan_cost"] == pytest.approx(3 * 0.85) and row["override_cost"] == pytest.approx(5 * 0.85)
    assert row["fva_eur"] == pytest.approx(-2 * 0.85) and row["fva_units"] == -2


def test_the_latest_override_is_in_force_and_days_without_sales_wait():
    overrides = pd.DataFrame(
        [_override("first", "P1", 30, at=6), _override("second", "P1", 12, at=7), _override("c", "P3", 5)]
    )
    scores = score_overrides(overrides, _plan(P1=(10, 0.85, 0.25)), _actuals(P1=(12, False, 11.0)))
    assert list(scores["override_id"]) == ["second"] and scores.iloc[0]["fva_eur"] == pytest.approx(1.70)


def test_an_old_plan_row_without_costs_takes_the_products_costs():
    overrides = pd.DataFrame([_override("a", "P1", 14)])
    costs = pd.DataFrame({"product_id": ["P1"], "cu": [0.85], "co": [0.25]})
    plan = _plan(P1=(10, None, None)).drop(columns=["cu", "co"])
    scores = score_overrides(overrides, plan, _actuals(P1=(12, False, 11.0)), costs)
    assert scores.iloc[0]["fva_eur"] == pytest.approx(1.20)


def test_fva_per_manager_and_per_reason_in_units_and_euros():
    overrides = pd.DataFrame(
        [
            _override("a", "P1", 14, by="marta", reason="event"),  # +1.20 EUR, 0 units
            _override(
                "b", "P2", 20, by="marta", reason="weather"
            ),  # 10 over a demand of 10: -2.50 EUR, -10 units
            _override("c", "P3", 11, by="luis", reason="event"),  # demand 11: +0.85 EUR, +1 unit
        ]
    )
    plan = _plan(P1=(10, 0.85, 0.25), P2=(10, 0.85, 0.25), P3=(10, 0.85, 0.25))
    scores = score_overrides(
        overrides, plan, _actuals(P1=(12, False, 1.0), P2=(10, False, 1.0), P3=(11, False, 1.0))
    )
    people = fva_summary(scores, "username").set_index("username")
    assert people.loc["marta", "overrides"] == 2 and people.loc["marta", "helped"] == 1
    assert people.loc["marta", "fva_eur"] == pytest.approx(1.20 - 2.50)
    assert people.loc["marta", "fva_units"] == -10
    assert people.loc["luis", "fva_eur"] == pytest.approx(0.85) and people.loc["luis", "fva_units"] == 1
    assert list(people.index) == ["luis", "marta"]  # who helped most first
    reasons = fva_summary(scores, "reason_code").set_index("reason_code")
    assert reasons.loc["event", "fva_eur"] == pytest.approx(2.05) and reasons.loc["event", "overrides"] == 2
    assert reasons.loc["weather", "fva_units"] == -10
    assert fva_summary(scores.iloc[0:0], "username").empty
    with pytest.raises(ValueError, match="by='store'"):
        fva_summary(scores, "store")


def test_the_confirmation_rule_and_refused_quantities_name_the_field():
    assert not needs_confirmation(10, 15, RULES) and needs_confirmation(10, 15.5, RULES)
    assert not needs_confirmation(9, 6, RULES) and needs_confirmation(9, 5.9, RULES)
    assert needs_confirmation(0, 1, RULES) and not needs_confirmation(0, 0, RULES)
    assert check_override(10, "14", "event", "  feria  ", False, RULES) == (14.0, "feria")
    for quantity, code in (("-3", "negative"), ("abc", "not_number"), ("", "missing"), ("2.5", "whole")):
        with pytest.raises(OverrideError, match="^quantity") as err:
            check_override(10, quantity, "event", None, True, RULES)
        assert err.value.field == "quantity" and err.value.code == code
    with pytest.raises(OverrideError, match="above 5000"):
        check_override(10, "50000", "event", "x", True, RULES)
    with pytest.raises(OverrideError) as err:
        check_override(10, "30", "event", "", True, RULES)  # far above the plan: a note first
    assert (err.value.field, err.value.code) == ("note", "required")
    with pytest.raises(OverrideError) as err:
        check_override(10, "30", "event", "feria", False, RULES)  # and an explicit confirmation
    assert (err.value.field, err.value.code) == ("confirm", "needed")
    assert check_override(10, "30", "event", "feria", True, RULES)[0] == 30
    with pytest.raises(OverrideError, match="reason_code"):
        check_override(10, "12", "holiday", None, False, RULES)


def test_the_rules_come_from_conf_and_bad_values_are_named():
    assert load_override_rules().confirm_factor == 1.5
    with pytest.raises(ValueError, match="overrides.confirm_factor must be > 1"):
        load_override_rules(raw={"overrides": {"confirm_factor": 0.9}})
    with pytest.raises(ValueError, match="unknown key"):
        load_override_rules(raw={"overrides": {"factor": 2}})


def test_the_import_leaves_the_overrides_folder_to_the_decisions_step(settings, caplog):
    """landing/overrides/ is not a source: the import neither takes its files nor warns about the folder."""
    import logging

    from bakery.ingest.landing import scan_landing

    (settings.landing_dir / "overrides").mkdir(parents=True)
    (settings.landing_dir / "overrides" / "app_override_S01_x.csv").write_text(
        "override_id\n", encoding="utf-8"
    )
    (settings.landing_dir / "sales_typo").mkdir()
    with caplog.at_level(logging.WARNING):
        files, unknown = scan_landing(settings)
    assert unknown == ["sales_typo"] and "overrides" not in files
    assert "overrides/" not in caplog.text and "sales_typo/" in caplog.text
