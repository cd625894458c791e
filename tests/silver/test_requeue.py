"""Late-arriving stores: rows quarantined as unknown_store are taken into silver once their store arrives,
checked again once per change of the dimensions, with reruns and a crash ending in the same state."""

from __future__ import annotations

from datetime import date

from pyspark.sql import functions as F

from bakery.silver.build import build_silver
from bakery.silver.requeue import STEP
from tests.silver.conftest import STORES, pos_row

AS_OF = date(2026, 3, 10)
NEW_STORE = {**STORES[0], "store_id": "S03", "name": "Norte"}


def _quarantine(lh) -> set[tuple[int, str]]:
    return {(r.row_number, r.rule) for r in lh.read("ops", "quarantine").filter("source = 'pos'").collect()}


def _pos(lh) -> dict[tuple[str, str], float]:
    return {
        (r.transaction_id, r.store_id): r.quantity_sold
        for r in lh.read("silver", "pos_transactions").collect()
    }


def _versions(lh) -> dict[str, int | None]:
    return lh.versions([("silver", "pos_transactions"), ("silver", "inventory_daily"), ("ops", "quarantine")])


def test_rows_of_a_store_that_arrives_later_are_taken_from_quarantine_once(lh, settings, land, dims):
    land(
        "pos",
        [
            pos_row("T1", "2026-03-02T09:00:00"),
            pos_row("T2", "2026-03-02T10:00:00", store="S03", qty="3", total="3.6"),
            pos_row("T3", "2026-03-03T10:00:00", store="S03", qty="4", total="4.8"),
            pos_row("T4", "2026-03-03T11:00:00", store="S03", qty="-1", total="-1.2"),
            pos_row("T5", "2026-03-03T12:00:00", store="S09"),
        ],
        batch="b1",
    )
    first = build_silver(lh, settings, "run1", as_of=AS_OF)
    assert first.ok and set(_pos(lh)) == {("T1", "S01")}
    assert _quarantine(lh) == {
        (2, "unknown_store"),
        (3, "unknown_store"),
        (4, "unknown_store"),
        (4, "range:quantity_sold"),
        (4, "range:total_amount"),
        (5, "unknown_store"),
    }

    # Nothing changed in the dimensions since the rows were checked: they are not read again.
    before = _versions(lh)
    quiet = build_silver(lh, settings, "run2", as_of=AS_OF)
    assert quiet.sources["pos"].requeue is None and _versions(lh) == before

    land("stores", [NEW_STORE], batch="b2")
    waiting = lh.version("ops", "quarantine")
    arrived = build_silver(lh, settings, "run3", as_of=AS_OF)
    requeue = arrived.sources["pos"].requeue
    assert arrived.ok and (requeue.checked, requeue.taken) == (4, 2), arrived.summary_lines()
    assert any(
        "pos: 2 of 4 row(s) quarantined for an unknown store or product taken into silver" in line
        for line in arrived.summary_lines()
    )
    assert _pos(lh) == {("T1", "S01"): 2.0, ("T2", "S03"): 3.0, ("T3", "S03"): 4.0}
    # T4 still breaks its range rules, only its unknown_store entry is gone; S09 has not arrived.
    remaining = {(4, "range:quantity_sold"), (4, "range:total_amount"), (5, "unknown_store")}
    assert _quarantine(lh) == remaining
    sold = {
        (r.date, r.sold) for r in lh.read("silver", "inventory_daily").filter("store_id = 'S03'").collect()
    }
    assert sold == {(date(2026, 3, 2), 3.0), (date(2026, 3, 3), 4.0)}
    # The batch's reconciliation row still describes it as first processed (bronze = silver + quarantined + ...).
    recon = lh.read("ops", "reconciliation").filter("source = 'pos'").first()
    assert (recon.bronze_rows, recon.silver_rows, recon.quarantined) == (5, 1, 4)

    after = _versions(lh)
    assert build_silver(lh, settings, "run4", as_of=AS_OF).sources["pos"].requeue is None
    assert _versions(lh) == after

    # A crash after the rows went into silver, before their quarantine entries went and the run's progress
    # record: the next run takes the same rows (already applied: silver commits nothing) and ends the same.
    lh.delta_table("ops", "quarantine").restoreToVersion(waiting)
    lh.delete("ops", "silver_progress", f"step = '{STEP}'")
    pos_version = lh.version("silver", "pos_transactions")
    again = build_silver(lh, settings, "run5", as_of=AS_OF)
    assert (again.sources["pos"].requeue.checked, again.sources["pos"].requeue.taken) == (4, 2)
    assert lh.version("silver", "pos_transactions") == pos_version
    assert _quarantine(lh) == remaining
    assert lh.read("silver", "pos_transactions").filter(F.col("store_id") == "S03").count() == 2
