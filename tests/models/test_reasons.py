"""A forecast row's reason keeps its code and launch day as fields through the stored text."""

from __future__ import annotations

from datetime import date

from bakery.models import reasons
from bakery.models.reasons import COLD_START, Reason, cold_start


def test_a_cold_start_reason_round_trips_with_its_launch_day():
    reason = cold_start(date(2026, 3, 5), "the median of this store's 3 other pastry products")
    assert reason.text() == (
        "cold_start: not sold here yet (launched 2026-03-05); "
        "forecast from the median of this store's 3 other pastry products"
    )
    assert Reason.parse(reason.text()) == reason
    assert Reason.parse(reason.text()).code == COLD_START


def test_other_reasons_give_their_code_and_detail_and_no_launch_day():
    parsed = Reason.parse("too_short: 40 observed days (< 56)")
    assert parsed == Reason("too_short", "40 observed days (< 56)")
    assert parsed.text() == "too_short: 40 observed days (< 56)"
    assert Reason.parse("no history") == Reason("", "no history")
    assert Reason.parse(None) is None and Reason.parse("  ") is None


def test_fallback_reasons_carry_their_numbers_back():
    """The app words a fallback from these fields; the stored text stays what the writers always wrote."""
    short = reasons.too_short(20, 56, True)
    assert short.text() == "too_short: 20 observed days after a gap (< 56)"
    assert Reason.parse(short.text()).facts() == {"days": 20, "after_gap": True, "minimum": 56}
    assert Reason.parse("too_short: 40 observed days (< 56)").facts()["after_gap"] is False
    assert Reason.parse(reasons.stale(322, 28).text()).facts() == {"days": 322, "limit": 28}
    assert Reason.parse(reasons.too_sparse(0.12, 0.3).text()).facts() == {"share": 12, "limit": 30}
    assert Reason.parse("fit_error: ValueError: x").facts() == {}
