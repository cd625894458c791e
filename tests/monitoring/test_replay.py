"""The monitoring replay (bench/monitoring_replay.py's machinery) on a tiny generated chain: an injected change
of a store's weekday pattern is alerted for that store within a week, the same chain without it is not, and
a forecast bias is caught by the accuracy rule."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bakery.generate.params import load_config
from bakery.monitoring.config import load_monitoring
from bakery.monitoring.drift import DriftRule
from bakery.monitoring.live_accuracy import AccuracyRule
from bakery.monitoring.replay import (
    ForecastBias,
    WeekdayChange,
    replay,
    serve_forecasts,
    simulate_chain,
)

START, END = date(2026, 8, 3), date(2026, 10, 18)  # eleven weeks
SHIFT = WeekdayChange("S002", date(2026, 9, 28), (0.5, 0.5, 1.0, 1.0, 1.0, 1.5, 1.0))  # a Monday
NIGHTS = [SHIFT.start - timedelta(days=7) + timedelta(days=k) for k in range(21)]


@pytest.fixture(scope="module")
def rules() -> tuple[AccuracyRule, DriftRule]:
    raw = load_monitoring(None).raw
    return AccuracyRule.from_conf(raw), DriftRule.from_conf(raw)


def _run(shifts, rules):
    chain = simulate_chain(load_config(), 2, 6, START, END, 7, shifts)
    forecasts = serve_forecasts(chain.sales, START + timedelta(days=7), END, shifts, seed=7)
    return replay(chain, forecasts, NIGHTS, *rules)


def test_a_weekday_change_is_alerted_for_its_store_within_a_week_and_not_without_it(rules):
    shifted = _run([SHIFT], rules)
    first = shifted.first_alert("S002", SHIFT.first_day, SHIFT.detected_by)
    assert first is not None and (first - SHIFT.first_day).days + 1 <= 7, shifted.counts()
    calm = _run([], rules)
    assert calm.severities()["CRITICAL"] == 0
    assert calm.first_alert("S002", NIGHTS[0], SHIFT.detected_by) is None, calm.counts()


def test_forecasts_running_40_percent_high_breach_the_accuracy_rule_for_their_store_only(rules):
    bias = ForecastBias("S001", SHIFT.start, 1.4)
    found = _run([bias], rules)
    first = found.first_alert("S001", bias.first_day, bias.detected_by)
    assert first is not None and (first - bias.first_day).days + 1 <= 7, found.counts()
    assert found.first_alert("S002", NIGHTS[0], ("accuracy.",)) is None
