"""A forecast row's reason: its code, numbers and launch day as fields, and the same reason as English text that
reads back to the same fields for rows that only have the text."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd

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
    assert (parsed.code, parsed.detail, parsed.launched_on) == ("too_short", "40 observed days (< 56)", None)
    assert parsed.text() == "too_short: 40 observed days (< 56)"
    assert Reason.parse("no history") == Reason("", "no history")
    assert Reason.parse(None) is None and Reason.parse("  ") is None


def test_fallback_reasons_carry_their_numbers_as_fields_and_in_the_text():
    """The app words a fallback from the facts; the text of an old row reads back to the same facts."""
    short = reasons.too_short(20, 56, True)
    assert short.text() == "too_short: 20 observed days after a gap (< 56)"
    assert short.facts == {"days": 20, "after_gap": True, "minimum": 56}
    assert Reason.parse(short.text()) == short
    assert Reason.parse("too_short: 40 observed days (< 56)").facts["after_gap"] is False
    assert (
        Reason.parse(reasons.stale(322, 28).text()).facts
        == reasons.stale(322, 28).facts
        == {"days": 322, "limit": 28}
    )
    sparse = reasons.too_sparse(0.12, 0.3)
    assert sparse.facts == Reason.parse(sparse.text()).facts == {"share": 12, "limit": 30}
    assert Reason.parse("fit_error: ValueError: x").facts == {}


def test_a_reason_gives_its_row_columns_and_reads_back_from_them():
    launch = cold_start(pd.Timestamp("2026-03-05"), "its forecast at 1 other store, scaled")
    cols = launch.columns()
    assert cols["reason_code"] == COLD_START and cols["launched_on"] == date(2026, 3, 5)
    assert cols["reason_facts"] is None and cols["fallback_reason"] == launch.text()
    short = reasons.too_short(40, 56, False).columns()
    assert short["reason_code"] == "too_short" and short["launched_on"] is None
    assert json.loads(short["reason_facts"]) == {"days": 40, "minimum": 56, "after_gap": False}
    # The fields win over the text: a reworded text changes nothing a reader gets.
    reworded = {**short, "fallback_reason": "too_short: a different wording altogether"}
    back = Reason.of_row(reworded)
    assert (back.code, dict(back.facts)) == ("too_short", {"days": 40, "minimum": 56, "after_gap": False})
    assert Reason.of_row({**cols, "launched_on": pd.Timestamp("2026-03-05")}).launched_on == date(2026, 3, 5)


def test_a_row_written_before_the_columns_is_read_from_its_text():
    old = {"fallback_reason": reasons.too_short(20, 56, True).text()}
    assert Reason.of_row(old) == reasons.too_short(20, 56, True)
    assert Reason.of_row({"fallback_reason": None, "reason_code": np.nan}) is None
    assert Reason.of_row({}) is None


def test_vector_columns_hold_the_reason_only_where_asked():
    cols = reasons.no_level().columns(where=np.array([False, True]))
    assert list(cols["reason_code"]) == [None, "no_level"]
    assert list(cols["fallback_reason"]) == [None, "no_level: no observation up to the as-of date"]
    assert list(cols["launched_on"]) == [None, None]
