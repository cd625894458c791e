"""A source's summary lines carry their logging level as a field: the wording of a line never decides it."""

from __future__ import annotations

import logging

from bakery.silver.build import SourceOutcome
from bakery.silver.quality import DQResult


def _check(severity: str, success: bool = False, observed: str = "3 FAIL WARNING rows") -> DQResult:
    return DQResult("sales", "sales", "not_null", "quantity_sold", severity, success, observed)


def test_failed_checks_and_a_blocked_source_are_logged_at_their_level_not_by_their_words():
    outcome = SourceOutcome(
        "sales",
        "sales_daily",
        blocked=True,
        dq=[_check("CRITICAL"), _check("WARNING"), _check("CRITICAL", success=True)],
    )
    levels = [level for level, _ in outcome.summary()]
    assert levels == [logging.INFO, logging.ERROR, logging.ERROR, logging.WARNING]
    assert outcome.summary_lines()[2].startswith("sales: FAIL not_null(quantity_sold) [CRITICAL]")
    assert outcome.summary_lines()[3].startswith("sales: WARNING not_null")
    # A line of information stays information whatever it says.
    assert SourceOutcome("sales FAIL ", "t").summary() == [(logging.INFO, "sales FAIL : no new bronze rows")]
