"""The reconciliation invariant is checked before a batch's counts are written."""

from __future__ import annotations

import pytest

from bakery.silver.records import BatchCounts, UnbalancedBatch, record_reconciliation


def test_counts_that_do_not_add_up_are_refused_before_anything_is_written() -> None:
    good = BatchCounts(
        "b1", bronze_rows=10, silver_rows=6, quarantined=2, duplicates=1, held_back=0, retired=1
    )
    bad = BatchCounts("b2", bronze_rows=10, silver_rows=6, quarantined=2)
    assert good.balanced and not bad.balanced
    # No Lakehouse is needed to refuse: the check comes before any write.
    with pytest.raises(UnbalancedBatch, match="pos batch b2: bronze_rows 10 != silver_rows 6"):
        record_reconciliation(None, [("pos", good, "ok"), ("pos", bad, "ok")], "run-1")  # type: ignore[arg-type]
