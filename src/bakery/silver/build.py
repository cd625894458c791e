"""build_silver: bronze -> silver for every source (rules, dedupe, quality gate, MERGE), then inventory.

Per source, in dependency order (stores and products first: the others are checked against them and
read store timezones from them), the rows of uploads deleted or replaced in the app since the last run
are first taken out of silver (bakery.silver.retired). Then the bronze batches not yet taken are cast
and checked, leaving out rows of retired uploads (counted as `retired` in the reconciliation, not
quarantined: they broke no rule); rejected rows go to ops.quarantine, the rest are deduplicated on the
natural keys and validated with the source's quality suite. A failed CRITICAL expectation blocks the
source: its silver table keeps its previous state and its batches are taken again next run. Otherwise
changed rows are MERGEd into silver. Then silver.inventory_daily follows the merged input batches and
the removals, and the run's records are written in one commit each: ops.reconciliation (every bronze row
accounted for), ops.dq_results and, last, ops.silver_progress. Every write before the progress record is
idempotent, so a crash anywhere only means the next run takes the same batches (and retired uploads)
again and ends in the same state.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from bakery.config import Settings, SourceSpec
from bakery.faults import fault_point
from bakery.lakehouse import Lakehouse
from bakery.ops.quarantine import quarantine_rows
from bakery.silver.cleaning import LINEAGE, VIOLATIONS, References, check_rows, silver_columns, split_checked
from bakery.silver.dedupe import ACTION, TO_SILVER, UPDATE, WRITES, classify, rank_latest, values_equal
from bakery.silver.inventory import INPUTS, InventoryOutcome, refresh_inventory
from bakery.silver.inventory import STEP as INVENTORY_STEP
from bakery.silver.quality import DQResult, QualityRunner, blocks
from bakery.silver.records import (
    RETIRED_STEP,
    SILVER_STEP,
    BatchCounts,
    load_progress,
    record_dq_results,
    record_progress,
    record_reconciliation,
)
from bakery.silver.requeue import STEP as REQUEUE_STEP
from bakery.silver.requeue import Requeue, dimension_marker, due, release, waiting_rows, waiting_sources
from bakery.silver.retired import Removal, RetiredUpload, first_days, from_files, retired_uploads, take_out
from bakery.silver.timezones import require_utc_session

log = logging.getLogger(__name__)

DIMENSIONS = ("stores", "products")
RETIRED = "retired"  # the fate of a bronze row from a retired upload


@dataclass
class SourceOutcome:
    """What happened to one source this run."""

    source: str
    table: str
    batches: list[BatchCounts] = field(default_factory=list)
    inserted: int = 0
    updated: int = 0
    blocked: bool = False
    dq: list[DQResult] = field(default_factory=list)
    removal: Removal = field(default_factory=Removal)
    requeue: Requeue | None = None

    def total(self, name: str) -> int:
        return sum(getattr(b, name) for b in self.batches)

    @property
    def failures(self) -> list[DQResult]:
        return [r for r in self.dq if not r.success]

    def summary_lines(self) -> list[str]:
        return [line for _, line in self.summary()]

    def summary(self) -> list[tuple[int, str]]:
        """(logging level, line) of each summary line: a failed critical check or a blocked source is an error,
        a failed warning check a warning, the rest information."""
        if not self.batches:
            lines = [f"{self.source}: no new bronze rows"]
        else:
            lines = [
                f"{self.source}: {self.total('bronze_rows')} bronze rows -> {self.total('silver_rows')} silver "
                f"({self.inserted} new, {self.updated} changed), {self.total('quarantined')} quarantined, "
                f"{self.total('duplicates')} duplicates"
                + (f", {self.total('retired')} from retired uploads" if self.total("retired") else "")
                + (f", {self.total('held_back')} held back" if self.blocked else "")
            ]
        if self.removal.batches:
            lines.append(
                f"{self.source}: retired upload(s) {', '.join(self.removal.batches)}: "
                f"{self.removal.removed} silver rows taken out "
                f"({self.removal.restored} back to an earlier file's row)"
            )
        if self.requeue is not None:
            lines.append(
                f"{self.source}: {self.requeue.taken} of {self.requeue.checked} row(s) quarantined for an "
                f"unknown store or product taken into silver ({self.requeue.marker})"
            )
        out = [(logging.INFO, line) for line in lines]
        if self.blocked:
            out.append(
                (
                    logging.ERROR,
                    f"{self.source}: blocked by data quality, silver.{self.table} keeps its previous state "
                    "and downstream steps skip it this run",
                )
            )
        out += [
            (_check_level(r.severity), f"{self.source}: {_severity_word(r.severity)} {r.describe()}")
            for r in self.failures
        ]
        return out

    def to_dict(self) -> dict[str, Any]:
        totals = {
            k: self.total(k)
            for k in ("bronze_rows", "silver_rows", "quarantined", "duplicates", "held_back", "retired")
        }
        removal = {
            "uploads": self.removal.batches,
            "removed": self.removal.removed,
            "restored": self.removal.restored,
        }
        return {
            "table": self.table,
            "batches": [b.batch_id for b in self.batches],
            **totals,
            "inserted": self.inserted,
            "updated": self.updated,
            "blocked": self.blocked,
            "retired_uploads": removal,
            "dq_failures": [vars(r) for r in self.failures],
            "requeued": self.requeue.to_dict() if self.requeue else None,
        }


@dataclass
class SilverResult:
    """The silver step's report; `blocked_sources` tells gold which sources to leave as they were."""

    sources: dict[str, SourceOutcome] = field(default_factory=dict)
    inventory: InventoryOutcome | None = None

    @property
    def blocked_sources(self) -> set[str]:
        return {k for k, o in self.sources.items() if o.blocked}

    @property
    def ok(self) -> bool:
        return not self.blocked_sources

    def summary_lines(self) -> list[str]:
        return [line for _, line in self.summary()]

    def summary(self) -> list[tuple[int, str]]:
        """(logging level, line) of every source's summary (SourceOutcome.summary), then inventory_daily's."""
        lines = [item for o in self.sources.values() for item in o.summary()]
        if self.inventory is not None:
            inv = self.inventory
            lines.append(
                (
                    logging.INFO,
                    f"inventory_daily: {inv.mode}, {inv.rows_written} rows written"
                    + (
                        f" ({inv.corrected_rows} with a negative-stock correction)"
                        if inv.corrected_rows
                        else ""
                    ),
                )
            )
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "blocked_sources": sorted(self.blocked_sources),
            "sources": {k: o.to_dict() for k, o in self.sources.items()},
            "inventory": self.inventory.to_dict() if self.inventory else None,
        }


def source_order(settings: Settings) -> list[str]:
    """Dimensions first (facts are checked against them), then the rest in conf/sources.yml order."""
    kinds = list(settings.sources)
    return [k for k in DIMENSIONS if k in kinds] + [k for k in kinds if k not in DIMENSIONS]


def pending_batches(lh: Lakehouse, spec: SourceSpec, done: set[tuple[str, str, str]]) -> list[str]:
    """Bronze batch ids of this source that silver has not taken yet, oldest first."""
    if not lh.exists("bronze", spec.table):
        return []
    batches = lh.distinct_values("bronze", spec.table, "_batch_id")
    return sorted(b for b in batches if (SILVER_STEP, spec.kind, b) not in done)


def _references(lh: Lakehouse, settings: Settings) -> References:
    """silver.stores (id, timezone) and silver.products (id) as small in-memory frames, read once the
    dimensions are built: every source's check joins them, and a Delta scan per source and dimension cost
    a file-listing Spark job each (the frames hold a few thousand rows at most); and the stores' country and
    subdivision codes, which an event's scope may name."""

    def rows(kind: str, columns: list[str]) -> pd.DataFrame | None:
        table = settings.source(kind).table
        if not lh.exists("silver", table):
            return None
        return lh.read_arrow("silver", table, columns=columns).to_pandas()

    def frame(pdf: pd.DataFrame | None, columns: list[str]) -> DataFrame | None:
        if pdf is None:
            return None
        return lh.spark.createDataFrame(pdf[columns], ", ".join(f"`{c}` string" for c in columns))

    stores = rows("stores", ["store_id", "timezone", "country", "subdivision"])
    regions: tuple[str, ...] = ()
    if stores is not None:
        codes = pd.concat([stores["country"], stores["subdivision"]]).dropna().astype(str)
        regions = tuple(sorted({c.strip().upper() for c in codes if c.strip()}))
    return References(
        stores=frame(stores, ["store_id", "timezone"]),
        products=frame(rows("products", ["product_id"]), ["product_id"]),
        regions=regions,
    )


def _silver(lh: Lakehouse, spec: SourceSpec) -> DataFrame | None:
    return lh.read("silver", spec.table) if lh.exists("silver", spec.table) else None


def value_columns(spec: SourceSpec) -> list[str]:
    return [c for c in silver_columns(spec) if c not in spec.keys and c not in LINEAGE]


def _count(
    checked: DataFrame, ranked: DataFrame, classified: DataFrame, retired: DataFrame | None
) -> tuple[dict[str, BatchCounts], dict[str, int]]:
    """Per batch counts (bronze, quarantined, silver, duplicates, retired) and the number of rows per action.

    One Spark job, which also fills the caches of `checked` and `classified`.
    """
    fates = (
        checked.select(
            "_batch_id", F.when(F.size(VIOLATIONS) > 0, "quarantined").otherwise("valid").alias(ACTION)
        )
        .unionByName(ranked.filter(F.col("_rank") > 1).select("_batch_id", F.lit("superseded").alias(ACTION)))
        .unionByName(classified.select("_batch_id", ACTION))
    )
    if retired is not None:
        fates = fates.unionByName(retired.select("_batch_id", F.lit(RETIRED).alias(ACTION)))
    counts: dict[str, BatchCounts] = {}
    actions: dict[str, int] = {}
    for r in fates.groupBy("_batch_id", ACTION).count().collect():
        c = counts.setdefault(r._batch_id, BatchCounts(r._batch_id))
        n, action = r["count"], r[ACTION]
        actions[action] = actions.get(action, 0) + n
        if action in ("quarantined", "valid", RETIRED):
            c.bronze_rows += n
            c.quarantined += n if action == "quarantined" else 0
            c.retired += n if action == RETIRED else 0
        elif action in TO_SILVER:
            c.silver_rows += n
        else:
            c.duplicates += n
    return counts, actions


def _merge_condition(spec: SourceSpec) -> str:
    """Update a silver row only with newer data that changes a value, so a rerun commits nothing."""
    return f"s._ingested_at >= t._ingested_at AND NOT ({values_equal('t', 's', value_columns(spec))})"


def _process_batches(
    lh: Lakehouse,
    settings: Settings,
    spec: SourceSpec,
    bronze: DataFrame,
    as_of: date,
    dq: QualityRunner,
    outcome: SourceOutcome,
    retired: list[RetiredUpload],
    refs: References,
    on_taken: Callable[[DataFrame], None] | None = None,
) -> None:
    """Check, deduplicate, validate and write these bronze rows; `on_taken` gets them as checked (with the
    rules each breaks) once silver holds those that pass (not when the source is blocked)."""
    left_out = None
    if retired:
        left_out = bronze.filter(from_files(retired))
        bronze = bronze.filter(~from_files(retired))
    checked = check_rows(bronze, spec, as_of, refs).persist(StorageLevel.MEMORY_AND_DISK)
    good, rejected = split_checked(checked, spec)
    ranked = rank_latest(good, spec.keys)
    winners = ranked.filter(F.col("_rank") == 1).drop("_rank", "_row_number")
    classified = classify(winners, _silver(lh, spec), spec.keys, value_columns(spec)).persist(
        StorageLevel.MEMORY_AND_DISK
    )
    try:
        counts, actions = _count(checked, ranked, classified, left_out)
        outcome.inserted, outcome.updated = actions.get("insert", 0), actions.get(UPDATE, 0)
        n_winners = sum(n for a, n in actions.items() if a not in ("quarantined", "valid", "superseded"))
        outcome.dq += dq.validate_batch(spec, classified.select(*silver_columns(spec)), n_winners)
        outcome.blocked = blocks(settings, outcome.dq)
        if any(c.quarantined for c in counts.values()):
            quarantine_rows(lh, rejected)
        if outcome.blocked:
            for c in counts.values():
                c.silver_rows, c.duplicates, c.held_back = 0, 0, c.bronze_rows - c.quarantined - c.retired
            outcome.inserted = outcome.updated = 0
        elif outcome.inserted or outcome.updated:
            writes = classified.filter(F.col(ACTION).isin(*WRITES)).select(*silver_columns(spec))
            if outcome.updated:
                lh.merge(writes, "silver", spec.table, keys=spec.keys, condition=_merge_condition(spec))
            else:
                # Only keys silver lacked when `classified` read it (nothing else writes the table meanwhile): an
                # append commits what the MERGE would, without its jobs that scan silver for matches.
                lh.append(writes, "silver", spec.table)
            fault_point("silver_merged")
        if on_taken is not None and not outcome.blocked:
            on_taken(checked)
        outcome.batches = sorted(counts.values(), key=lambda c: c.batch_id)
    finally:
        classified.unpersist()
        checked.unpersist()


def build_source(
    lh: Lakehouse,
    settings: Settings,
    spec: SourceSpec,
    as_of: date,
    dq: QualityRunner,
    done: set[tuple[str, str, str]],
    retired: list[RetiredUpload] | None = None,
    references: Callable[[], References] | None = None,
    requeue: Callable[[str], str | None] | None = None,
) -> SourceOutcome:
    """Take newly retired uploads (this source's) out of silver, then take the source's new bronze batches in
    (quarantine, MERGE) without the rows of retired uploads, then its rows quarantined for an unknown store or
    product if they are due to be checked again (bakery.silver.requeue), then check its freshness.

    `references` gives the dimensions to check rows against (read from silver when not given); `requeue`
    gives, per source, the dimension marker to check waiting rows against, or None when none are due. The
    run's records (reconciliation, quality results, progress) are written by build_silver.
    """
    references = references or (lambda: _references(lh, settings))
    outcome = SourceOutcome(spec.kind, spec.table)
    batches = pending_batches(lh, spec, done)
    retired = [u for u in retired or () if u.kind == spec.kind]
    new = [u for u in retired if (RETIRED_STEP, spec.kind, u.batch_id) not in done]
    if new:
        outcome.removal = take_out(lh, spec, retired, new, batches, as_of, references())
    if batches:
        bronze = lh.read("bronze", spec.table).filter(F.col("_batch_id").isin(*batches))
        _process_batches(lh, settings, spec, bronze, as_of, dq, outcome, retired, references())
    marker = requeue(spec.kind) if requeue is not None and not outcome.blocked else None
    if marker is not None:
        outcome.requeue = _requeue(lh, settings, spec, marker, as_of, dq, outcome, retired, references())
    outcome.dq += dq.validate_freshness(spec, lh, as_of)
    for level, line in outcome.summary():
        log.log(level, line)
    return outcome


def _requeue(
    lh: Lakehouse,
    settings: Settings,
    spec: SourceSpec,
    marker: str,
    as_of: date,
    dq: QualityRunner,
    outcome: SourceOutcome,
    retired: list[RetiredUpload],
    refs: References,
) -> Requeue | None:
    """Take the source's rows quarantined for an unknown reference that now pass; None if quality blocks them
    (they stay quarantined and are checked again next run)."""
    result = Requeue(marker)
    rows = waiting_rows(lh, spec.kind, lh.read("bronze", spec.table)).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        result.checked = rows.count()
        scratch = SourceOutcome(spec.kind, spec.table)

        def taken(checked: DataFrame) -> None:
            good, _ = split_checked(checked, spec)
            result.taken = good.count()
            if result.taken and spec.kind in INPUTS:
                result.stores = first_days([good], spec.kind)
            release(lh, spec.kind, checked)

        if result.checked:
            _process_batches(lh, settings, spec, rows, as_of, dq, scratch, retired, refs, taken)
    finally:
        rows.unpersist()
    outcome.dq += scratch.dq if result.checked else []
    outcome.inserted += scratch.inserted
    outcome.updated += scratch.updated
    return None if scratch.blocked else result


def _requeue_progress(
    outcomes: Iterable[SourceOutcome],
    waiting: set[str],
    done: set[tuple[str, str, str]],
    marker: Callable[[], str],
) -> list[tuple[str, str, str, int | None]]:
    """Progress rows: the sources whose rows with unknown references have all been checked against the
    dimensions as they are now, i.e. retried this run, or not waiting before and quarantining rows this run
    (then against the dimensions as built this run): none is checked again until the dimensions change."""
    rows: list[tuple[str, str, str, int | None]] = []
    for o in outcomes:
        if o.requeue is not None:
            rows.append((REQUEUE_STEP, o.source, o.requeue.marker, o.requeue.checked))
        elif (
            o.source not in DIMENSIONS
            and o.source not in waiting
            and not o.blocked
            and o.total("quarantined")
            and (REQUEUE_STEP, o.source, marker()) not in done
        ):
            rows.append((REQUEUE_STEP, o.source, marker(), 0))
    return rows


def _severity_word(severity: str) -> str:
    return "FAIL" if severity == "CRITICAL" else severity


def _check_level(severity: str) -> int:
    """The logging level of a failed check of this severity."""
    return {"CRITICAL": logging.ERROR, "WARNING": logging.WARNING}.get(severity, logging.INFO)


def _inventory_pending(result: SilverResult, done: set[tuple[str, str, str]]) -> list[tuple[str, str]]:
    """Input batches in silver (earlier runs and this one) that inventory_daily has not taken yet."""
    merged = {(source, batch) for step, source, batch in done if step == SILVER_STEP and source in INPUTS}
    merged |= {
        (k, b.batch_id) for k, o in result.sources.items() if k in INPUTS and not o.blocked for b in o.batches
    }
    taken = {(source, batch) for step, source, batch in done if step == INVENTORY_STEP}
    return sorted(merged - taken)


def _removed_from(outcomes: Iterable[SourceOutcome]) -> dict[str, date]:
    """Store -> first day whose inventory inputs lost (or got back) rows through retired uploads, or got rows
    that waited in quarantine for their store or product."""
    first: dict[str, date] = {}
    for o in outcomes:
        stores = [o.removal.stores, o.requeue.stores if o.requeue else {}]
        for store, day in (item for s in stores for item in s.items()):
            first[store] = min(day, first.get(store, day))
    return first


def build_silver(lh: Lakehouse, settings: Settings, batch_id: str, as_of: date) -> SilverResult:
    """Bring every silver table (and silver.inventory_daily) up to date with bronze; see the module doc."""
    require_utc_session(lh.spark)
    run_id = uuid.uuid4().hex[:12]
    dq = QualityRunner(settings)
    done = load_progress(lh)
    retired = retired_uploads(lh)
    result = SilverResult()
    refs: dict[str, References] = {}
    dimensions = [(k, settings.source(k).table) for k in DIMENSIONS if k in settings.sources]
    waiting = waiting_sources(lh)
    markers: dict[str, str] = {}

    def references() -> References:
        if not refs:
            refs["dimensions"] = _references(lh, settings)
        return refs["dimensions"]

    def marker() -> str:
        if not markers:
            markers["dimensions"] = dimension_marker(lh, dimensions)
        return markers["dimensions"]

    def requeue(kind: str) -> str | None:
        if kind in DIMENSIONS or kind not in waiting:
            return None
        return marker() if due(kind, marker(), waiting, done) else None

    for kind in source_order(settings):
        result.sources[kind] = build_source(
            lh, settings, settings.source(kind), as_of, dq, done, retired, references, requeue
        )
        if kind in DIMENSIONS:
            refs.clear()  # read again once needed: the other sources are checked against the dimensions as built
    outcomes = result.sources.values()
    record_reconciliation(
        lh, [(o.source, c, "blocked" if o.blocked else "ok") for o in outcomes for c in o.batches], batch_id
    )
    inventory_batches = _inventory_pending(result, done)
    result.inventory = refresh_inventory(lh, settings, inventory_batches, _removed_from(outcomes))
    record_dq_results(lh, run_id, batch_id, [r for o in outcomes for r in o.dq])
    progress = [
        (SILVER_STEP, o.source, c.batch_id, c.bronze_rows)
        for o in outcomes
        if not o.blocked
        for c in o.batches
    ]
    progress += [(INVENTORY_STEP, source, batch, None) for source, batch in inventory_batches]
    progress += [(RETIRED_STEP, o.source, upload, None) for o in outcomes for upload in o.removal.batches]
    progress += _requeue_progress(outcomes, waiting, done, marker)
    record_progress(lh, progress, batch_id)
    return result
