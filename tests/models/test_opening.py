"""Expected closed days: a store's regular closing weekdays and holidays get a forecast of 0 with the reason."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd

from bakery.models.offering import NOT_OFFERED, expected_not_offered
from bakery.models.opening import CLOSED, close_backtest, close_days, expected_closures, expected_zero_days
from bakery.models.output import FORECAST_COLUMNS
from bakery.models.serve import to_gold


def _features(store: str, start: str, end: str, closed=lambda d: False) -> pd.DataFrame:
    days = pd.date_range(start, end, freq="D")
    shut = [closed(d) for d in days]
    return pd.DataFrame(
        {
            "store_id": store,
            "product_id": "P1",
            "unique_id": f"{store}/P1",
            "date": days,
            "is_open": [not c for c in shut],
            "y": [None if c else 10.0 for c in shut],
            "country": "DE",
            "subdivision": "DE-BY",
        }
    )


def _closures(features: pd.DataFrame, cfg, as_of: str) -> dict[tuple[str, date], str]:
    found = expected_closures(features, cfg, date.fromisoformat(as_of))
    return {(r.store_id, r.ds.date()): r.reason for r in found.itertuples()}


def test_a_weekday_closed_for_the_last_eight_weeks_is_closed_ahead_and_one_opening_undoes_it(cfg):
    sunday = lambda d: d.weekday() == 6  # noqa: E731
    features = pd.concat(
        [
            _features("A", "2025-09-01", "2026-01-31", sunday),
            _features("B", "2025-09-01", "2026-01-31"),
            _features(
                "C", "2025-09-01", "2026-01-31", lambda d: sunday(d) and d != pd.Timestamp("2026-01-18")
            ),
        ]
    )
    found = _closures(features, cfg, "2026-01-31")
    assert set(found) == {("A", date(2026, 2, d)) for d in (1, 8, 15, 22)}
    assert found[("A", date(2026, 2, 1))] == "closed on each of the last 8 Sundays"


def test_a_store_reopening_after_a_long_closure_takes_up_its_weekdays_at_once(cfg):
    """Shut from 2025-11-01 to 2026-01-19 (a refit), closed on Sundays before and after: reopened on Tuesday
    2026-01-20, only its Sundays are closed ahead. While it is still shut, every day stays closed."""
    refit = lambda d: pd.Timestamp("2025-11-01") <= d < pd.Timestamp("2026-01-20")  # noqa: E731
    features = _features("R", "2025-06-01", "2026-01-24", lambda d: refit(d) or d.weekday() == 6)
    found = _closures(features, cfg, "2026-01-24")
    assert set(found) == {("R", date(2026, d // 100, d % 100)) for d in (125, 201, 208, 215)}
    assert found[("R", date(2026, 1, 25))] == "closed on each of the last 8 Sundays"
    shut = _closures(features[features["date"] <= "2026-01-10"], cfg, "2026-01-10")
    assert len(shut) == 28 and shut[("R", date(2026, 1, 12))] == "closed on each of the last 8 Mondays"


def test_a_holiday_closed_on_last_time_is_closed_again_but_one_on_a_closed_weekday_says_nothing(cfg):
    features = pd.concat(
        [
            # Closed on Christmas Day 2024 (a Wednesday) and on Sundays: both hold for December 2025.
            _features(
                "A", "2024-11-01", "2025-12-10", lambda d: d == pd.Timestamp("2024-12-25") or d.weekday() == 6
            ),
            # Open on Christmas Day 2024.
            _features("B", "2024-11-01", "2025-12-10"),
        ]
    )
    found = _closures(features, cfg, "2025-12-10")
    assert found[("A", date(2025, 12, 25))] == "closed on Christmas Day 2024-12-25"
    assert ("A", date(2025, 12, 14)) in found and ("A", date(2025, 12, 24)) not in found
    assert not [k for k in found if k[0] == "B"]
    # Closed on Christmas Eve 2023 because it was a Sunday: Christmas Eve 2024 is a Tuesday, an open day.
    sundays = _features("C", "2023-11-01", "2024-12-10", lambda d: d.weekday() == 6)
    assert set(_closures(sundays, cfg, "2024-12-10")) == {
        ("C", date(2024, 12, 15)),
        ("C", date(2024, 12, 22)),
        ("C", date(2024, 12, 29)),
        ("C", date(2025, 1, 5)),
    }


def test_a_holiday_inside_a_longer_shutdown_says_nothing_about_the_holiday(cfg):
    """Shut for a month around Assumption Day 2024 (a refit): Assumption Day 2025 is not expected closed. Shut on
    Assumption Day 2024 alone, after a normal week: it is."""
    refit = lambda d: pd.Timestamp("2024-08-01") <= d <= pd.Timestamp("2024-08-31")  # noqa: E731
    features = pd.concat(
        [
            _features("S", "2024-06-01", "2025-08-01", refit),
            _features("H", "2024-06-01", "2025-08-01", lambda d: d == pd.Timestamp("2024-08-15")),
        ]
    )
    found = _closures(features, cfg, "2025-08-01")
    assert ("S", date(2025, 8, 15)) not in found
    assert found[("H", date(2025, 8, 15))] == "closed on Assumption Day 2024-08-15"


def test_a_weekday_closed_only_in_the_quiet_months_opens_again_in_the_season(cfg):
    quiet_sundays = lambda d: d.weekday() == 6 and d.month in (1, 2, 3, 10, 11, 12)  # noqa: E731
    features = _features("V", "2025-01-01", "2026-03-31", quiet_sundays)
    assert _closures(features, cfg, "2026-03-31") == {}
    assert set(_closures(features[features["date"] <= "2026-02-28"], cfg, "2026-02-28")) == {
        ("V", date(2026, 3, d)) for d in (1, 8, 15, 22)
    }


def _rows(store: str, days: pd.DatetimeIndex) -> pd.DataFrame:
    n = len(days)
    return pd.DataFrame(
        {
            "unique_id": f"{store}/P1",
            "store_id": store,
            "product_id": "P1",
            "as_of": days[0] - pd.Timedelta(days=1),
            "ds": days,
            "horizon": range(1, n + 1),
            "model": "ensemble",
            "yhat": 12.0,
            "yhat_lower": 8.0,
            "yhat_upper": 15.0,
            "trend": 11.0,
            "weekly": 1.0,
            "yearly": 0.0,
            "holidays": 0.0,
            "regressors": json.dumps({"promo": 0.5}),
            "fallback_reason": None,
            "reason_code": None,
            "launched_on": None,
            "reason_facts": None,
            "notes": None,
        }
    )[FORECAST_COLUMNS]


def test_closed_days_forecast_zero_with_the_reason_as_the_explanation(cfg):
    days = pd.date_range("2026-02-01", periods=3, freq="D")
    rows = pd.concat([_rows("A", days), _rows("B", days)], ignore_index=True)
    closures = pd.DataFrame(
        {
            "store_id": ["A"],
            "product_id": [None],
            "ds": [days[0]],
            "model": [CLOSED],
            "reason": ["closed on each of the last 8 Sundays"],
        }
    )
    gold = to_gold(close_days(rows, closures), "3", "champion").set_index(["store_id", "date"])
    shut = gold.loc[("A", date(2026, 2, 1))]
    assert (shut.model, shut.yhat, shut.yhat_lower, shut.yhat_upper) == (CLOSED, 0.0, 0.0, 0.0)
    assert shut.explanation == "Store expected closed: closed on each of the last 8 Sundays"
    assert json.loads(shut.components) == {"holidays": 0.0, "trend": 0.0, "weekly": 0.0, "yearly": 0.0}
    others = gold.drop(index=("A", date(2026, 2, 1)))
    assert (others["yhat"] == 12.0).all() and (others["model"] == "ensemble").all()
    assert close_days(rows, closures.iloc[0:0]).equals(rows)


def test_a_backtest_scores_the_closure_rule_as_served_at_each_cutoff(cfg):
    """Closed on the last 8 Sundays before the first cutoff, open on Sunday 2026-02-08: the champion served 0
    that day and the backtest scores it so; by the second cutoff that Sunday opening undoes the rule."""
    features = _features(
        "A", "2025-09-01", "2026-02-28", lambda d: d.weekday() == 6 and d < pd.Timestamp("2026-02-08")
    )
    rows = pd.DataFrame(
        {
            "unique_id": "A/P1",
            "store_id": "A",
            "product_id": "P1",
            "y": 10.0,
            "champion": 11.0,
            "prophet": 11.0,
            "cutoff": pd.to_datetime(["2026-01-31", "2026-01-31", "2026-02-14"]),
            "ds": pd.to_datetime(["2026-02-08", "2026-02-09", "2026-02-15"]),
        }
    )
    scored = close_backtest(rows, features, cfg, "champion")
    assert scored["champion"].tolist() == [0.0, 11.0, 11.0] and scored["prophet"].tolist() == [11.0] * 3
    assert close_backtest(rows.iloc[0:0], features, cfg, "champion").empty


def _sales(store: str, product: str, start: str, end: str, on_sale=lambda d: True) -> pd.DataFrame:
    """One series' gold.features rows: 10 a day on sale, no observation (not offered) otherwise; the store open."""
    days = pd.date_range(start, end, freq="D")
    sold = [on_sale(d) for d in days]
    return pd.DataFrame(
        {
            "store_id": store,
            "product_id": product,
            "unique_id": f"{store}/{product}",
            "date": days,
            "is_open": True,
            "is_offered": sold,
            "y": [10.0 if s else None for s in sold],
            "country": "DE",
            "subdivision": "DE-BY",
        }
    )


def test_a_product_not_sold_for_four_weeks_while_the_store_opened_is_off_sale_ahead(cfg):
    features = pd.concat(
        [
            _sales("A", "ROLL", "2025-09-01", "2026-01-31"),
            _sales(
                "A", "CAKE", "2025-09-01", "2026-01-31", lambda d: d <= pd.Timestamp("2025-12-31")
            ),  # dropped
            _sales(
                "A", "TART", "2025-09-01", "2026-01-31", lambda d: d <= pd.Timestamp("2026-01-10")
            ),  # 21 days
            _sales("A", "NEW", "2025-09-01", "2026-01-31", lambda d: False),  # not launched
        ]
    )
    found = expected_not_offered(features, cfg, date(2026, 1, 31))
    assert set(found["product_id"]) == {"CAKE"} and len(found) == cfg.max_horizon
    assert found["reason"].iloc[0] == "last on sale 2025-12-31, the store has opened 31 days since"
    # The whole store shut since 2025-12-31 is the closed-day rule's business, not its products'.
    shut = _sales("B", "ROLL", "2025-09-01", "2026-01-31").assign(
        is_open=lambda f: f["date"] <= "2025-12-31", y=lambda f: f["y"].where(f["date"] <= "2025-12-31")
    )
    assert expected_not_offered(shut, cfg, date(2026, 1, 31)).empty


def test_a_seasonal_product_is_off_sale_until_its_season_a_year_earlier_comes_round(cfg):
    advent = lambda d: (d.month == 12) or (d.month == 11 and d.day >= 20)  # noqa: E731
    features = pd.concat(
        [
            _sales("A", "STOLLEN", "2024-09-01", "2025-11-05", advent),
            _sales("A", "ROLL", "2024-09-01", "2025-11-05"),
        ]
    )
    found = expected_not_offered(features, cfg, date(2025, 11, 5))
    # Last year's season began on Thursday 2024-11-20: 52 weeks on, 2025-11-19, less the 7 days' tolerance.
    assert list(found["ds"].dt.date) == list(pd.date_range("2025-11-06", "2025-11-11").date)
    assert (found["product_id"] == "STOLLEN").all()


def test_off_sale_days_forecast_zero_and_the_store_closure_wins_where_both_hold(cfg):
    days = pd.date_range("2026-02-01", periods=2, freq="D")
    rows = pd.concat(
        [_rows("A", days), _rows("A", days).assign(product_id="P2", unique_id="A/P2")], ignore_index=True
    )
    zero = pd.DataFrame(
        {
            "store_id": ["A", "A", "A"],
            "product_id": ["P2", "P2", None],
            "ds": [days[0], days[1], days[0]],
            "model": [NOT_OFFERED, NOT_OFFERED, CLOSED],
            "reason": ["last on sale 2025-12-31, the store has opened 31 days since"] * 2 + ["closed on ..."],
        }
    )
    gold = to_gold(close_days(rows, zero), "3", "champion").set_index(["product_id", "date"])
    assert gold.loc[("P2", date(2026, 2, 2)), "explanation"] == (
        "Not expected on sale: last on sale 2025-12-31, the store has opened 31 days since"
    )
    assert (
        gold.loc[("P2", date(2026, 2, 2)), "model"] == NOT_OFFERED
        and gold.loc[("P2", date(2026, 2, 2)), "yhat"] == 0
    )
    assert (
        gold.loc[("P2", date(2026, 2, 1)), "model"] == CLOSED == gold.loc[("P1", date(2026, 2, 1)), "model"]
    )
    assert gold.loc[("P1", date(2026, 2, 2)), "yhat"] == 12.0


def test_the_rules_together_mark_the_days_a_bake_plan_should_skip(cfg):
    features = pd.concat(
        [
            _features("A", "2025-09-01", "2026-01-31", lambda d: d.weekday() == 6),
            _sales("A", "CAKE", "2025-09-01", "2026-01-31", lambda d: d <= pd.Timestamp("2025-12-20")).assign(
                is_open=lambda f: f["date"].dt.weekday != 6
            ),
        ]
    )
    zero = expected_zero_days(features, cfg, date(2026, 1, 31))
    assert set(zero.loc[zero["model"] == CLOSED, "product_id"].isna()) == {True}
    assert len(zero[zero["model"] == CLOSED]) == 4 and len(zero[zero["model"] == NOT_OFFERED]) == 28
    # the cake was last sold on 2025-12-20; of the 42 days since, 6 were Sundays the store was shut
    assert (
        zero.loc[zero["model"] == NOT_OFFERED, "reason"].iloc[0]
        == "last on sale 2025-12-20, the store has opened 36 days since"
    )
