"""The plan's policy against what was baked, on a case worked out by hand."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from bakery.decisions.compare import compare_totals, plan_vs_actual

D1, D2, D3 = date(2026, 5, 4), date(2026, 5, 5), date(2026, 5, 6)


def _plan() -> pd.DataFrame:
    # cu = 2.0 - 0.6 + 0.2 = 1.6 and co = 0.6 - 0.1 = 0.5 where salvage and goodwill are known.
    return pd.DataFrame(
        {
            "store_id": ["S1", "S1", "S1", "S1", "S2"],
            "product_id": ["P1", "P1", "P1", "P1", "P9"],
            "date": [D1, D2, D3, date(2026, 5, 7), D1],
            "quantity": [10.0, 10.0, 10.0, 10.0, 5.0],
            "unit_price": 2.0,
            "unit_cost": 0.6,
            "salvage_value": [0.1, 0.1, 0.1, 0.1, None],
            "goodwill_cost": [0.2, 0.2, 0.2, 0.2, None],
        }
    )


def _ledger() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "store_id": ["S1", "S1", "S1", "S2", "S3"],
            "product_id": ["P1", "P1", "P1", "P9", "P1"],
            "date": pd.to_datetime([D1, D2, D3, D1, D1]),
            # D1: 14 baked + 2 carried, 12 sold: the store threw 4 away; the plan's 10 + 2 matched demand.
            # D2: 8 baked, sold out at 8, 3 more were wanted: the plan's 10 was short by 1, the store by 3.
            # D3: a stock-out with no estimate of the lost sales: demand unknown, left out.
            # S2/P9 (no salvage or goodwill): 7 baked, 4 sold: 3 over against the plan's 5, which left 1 over.
            "baked": [14.0, 8.0, 10.0, 7.0, 3.0],
            "carried_over": [2.0, 0.0, 0.0, None, 0.0],
            "sold": [12.0, 8.0, 10.0, 4.0, 3.0],
            "lost_sales": [0.0, 3.0, None, 0.0, 0.0],
        }
    )


def test_plan_and_actual_cost_against_the_same_demand():
    rows = plan_vs_actual(_plan(), _ledger()).set_index(["store_id", "product_id", "date"])
    assert list(rows.index) == [("S1", "P1", D1), ("S1", "P1", D2), ("S2", "P9", D1)]
    d1, d2, s2 = (rows.loc[k] for k in rows.index)
    assert d1["demand"] == 12 and d1["plan_cost_eur"] == 0
    assert d1["actual_waste_eur"] == pytest.approx(4 * 0.5) and d1["actual_lost_eur"] == 0
    assert d2["demand"] == 11
    assert d2["plan_lost_eur"] == pytest.approx(1.6) and d2["plan_waste_eur"] == 0
    assert d2["actual_lost_eur"] == pytest.approx(3 * 1.6)
    # without salvage or goodwill: cu = margin 1.4, co = the unit cost 0.6
    assert (s2["cu"], s2["co"]) == pytest.approx((1.4, 0.6))
    assert s2["plan_waste_eur"] == pytest.approx(0.6) and s2["actual_waste_eur"] == pytest.approx(1.8)
    totals = compare_totals(rows.reset_index())
    assert totals["n"] == 3
    assert totals["plan_cost_eur"] == pytest.approx(1.6 + 0.6)
    assert totals["actual_cost_eur"] == pytest.approx(2.0 + 4.8 + 1.8)
    assert totals["saving_eur"] == pytest.approx(8.6 - 2.2)


def test_a_frame_without_the_needed_columns_is_refused_by_name():
    with pytest.raises(ValueError, match=r"ledger lacks column\(s\) \['lost_sales'\]"):
        plan_vs_actual(_plan(), _ledger().drop(columns="lost_sales"))
    assert plan_vs_actual(_plan().iloc[:0], _ledger()).empty
