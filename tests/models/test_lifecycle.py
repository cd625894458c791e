"""Canary stores and the decisions of the canary and the automatic rollback, on scored points."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bakery.models.lifecycle import (
    CanaryPolicy,
    RollbackPolicy,
    canary_decision,
    canary_stores,
    compare,
    policies,
    rollback_due,
)


def _scored(errors: dict[str, float], days: int = 10, stores: int = 3, products: int = 4) -> pd.DataFrame:
    """Every version forecasts the same points; version v is off by errors[v] x y."""
    rng = np.random.default_rng(0)
    rows = []
    for d in pd.date_range("2026-03-01", periods=days):
        for s in range(stores):
            for p in range(products):
                y = float(rng.integers(5, 50))
                for version, err in errors.items():
                    rows.append(
                        (d - pd.Timedelta(days=1), f"S{s:03d}", f"P{p}", d, version, y * (1 + err), y)
                    )
    return pd.DataFrame(
        rows, columns=["as_of", "store_id", "product_id", "date", "model_version", "yhat", "y"]
    )


def test_canary_stores_are_a_stable_share_never_all_and_differ_by_version():
    stores = [f"S{i:03d}" for i in range(10)]
    chosen = canary_stores(stores, "7", 0.2)
    assert len(chosen) == 2 and chosen == canary_stores(list(reversed(stores)), "7", 0.2)
    assert canary_stores(stores, "8", 0.2) != chosen or canary_stores(stores, "9", 0.2) != chosen
    assert len(canary_stores(stores[:2], "7", 0.9)) == 1 and canary_stores(stores[:1], "7", 0.5) == []
    assert canary_stores(stores, "7", 0.0) == []


def test_compare_pairs_only_points_both_versions_forecast():
    scored = _scored({"2": 0.1, "1": 0.3})
    scored = scored[~((scored["model_version"] == "1") & (scored["store_id"] == "S000"))]
    cmp = compare(scored, "2", "1")
    assert cmp.points == 10 * 2 * 4 and cmp.days == 10
    assert cmp.wmape_a == pytest.approx(10.0) and cmp.wmape_b == pytest.approx(30.0)


def test_the_canary_waits_its_days_then_is_promoted_or_ended_by_the_gate_margin():
    policy = CanaryPolicy(enabled=True, days=7, max_ratio=1.0)
    assert canary_decision(compare(_scored({"2": 0.1, "1": 0.3}, days=5), "2", "1"), policy) == "wait"
    assert canary_decision(compare(_scored({"2": 0.1, "1": 0.3}), "2", "1"), policy) == "promote"
    assert canary_decision(compare(_scored({"2": 0.3, "1": 0.1}), "2", "1"), policy) == "end"
    strict = CanaryPolicy(enabled=True, days=7, max_ratio=0.5)  # must be twice as good
    assert canary_decision(compare(_scored({"2": 0.2, "1": 0.3}), "2", "1"), strict) == "end"


def test_rollback_only_when_the_new_champion_breaks_its_promise_and_the_former_would_not():
    policy = RollbackPolicy(min_days=7, min_points=60, tolerance=0.3)
    bad_new = compare(_scored({"2": 0.5, "1": 0.1}), "2", "1")
    assert rollback_due(bad_new, expected_wmape=20.0, policy=policy)
    both_bad = compare(_scored({"2": 0.5, "1": 0.4}), "2", "1")
    assert not rollback_due(both_bad, expected_wmape=20.0, policy=policy)  # the demand changed, not the model
    within = compare(_scored({"2": 0.25, "1": 0.1}), "2", "1")
    assert not rollback_due(within, expected_wmape=20.0, policy=policy)  # 25% <= 20% x 1.3
    few = compare(_scored({"2": 0.5, "1": 0.1}, days=3), "2", "1")
    assert not rollback_due(few, expected_wmape=20.0, policy=policy)
    assert not rollback_due(bad_new, expected_wmape=None, policy=policy)


def test_policies_come_from_models_yml_and_bad_values_are_named():
    canary, rollback = policies(
        {"canary": {"enabled": True, "share": 0.5}}, {"max_wmape_ratio_vs_champion": 0.9}
    )
    assert canary.enabled and canary.share == 0.5 and canary.max_ratio == 0.9 and rollback.automatic
    with pytest.raises(ValueError, match="lifecycle.canary: unknown key"):
        policies({"canary": {"shares": 0.5}}, {})
    with pytest.raises(ValueError, match="share is 1.0"):
        policies({"canary": {"share": 1.0}}, {})
