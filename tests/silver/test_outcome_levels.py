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


def test_a_failed_runs_message_takes_the_error_lines_whatever_the_others_say():
    """ops.runs' message of a failed ingest: silver's failed critical checks and blocked sources, and the gold
    tables kept for them; a warning mentioning "FAIL" or "blocked" is left out."""
    from bakery.etl import failure_lines
    from bakery.gold.build import KEPT, GoldResult, GoldTable
    from bakery.reports import JobReport
    from bakery.silver.build import SilverResult

    silver = SilverResult(
        {
            "sales": SourceOutcome("sales", "sales_daily", blocked=True, dq=[_check("CRITICAL")]),
            "pos": SourceOutcome("pos", "pos_transactions", dq=[_check("WARNING", observed="blocked FAIL")]),
        }
    )
    gold = GoldResult(
        tables=[GoldTable("daily_sales", KEPT, "source(s) sales blocked"), GoldTable("features", "built")],
        warnings=["3 FAIL rows blocked"],
    )
    report = JobReport(job="ingest")
    report.add("silver", silver)
    report.add("gold", gold)
    lines = failure_lines(report)
    assert len(lines) == 3
    assert lines[0].startswith("sales: blocked by data quality") and lines[1].startswith(
        "sales: FAIL not_null"
    )
    assert lines[2].startswith("gold.daily_sales: kept")
    assert not [line for line in lines if line.startswith("pos") or "warning" in line]
