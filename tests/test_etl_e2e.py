"""End to end: landing -> bronze -> silver -> gold on generated data; reruns and SIGKILLs change nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bakery.config import load_settings
from tests.conftest import SMALL_AS_OF, land_demo

BUSINESS_LAYERS = ("bronze", "silver", "gold")


def _business_versions(lh) -> dict[str, int | None]:
    return lh.versions((t.layer, t.name) for t in lh.list_tables() if t.layer in BUSINESS_LAYERS)


def _counts(lh) -> dict[str, int]:
    return {
        f"{t.layer}.{t.name}": lh.read(t.layer, t.name).count()
        for t in lh.list_tables()
        if t.layer in BUSINESS_LAYERS
    }


@pytest.fixture(scope="module")
def built(spark, built_small):
    """The small demo landed and run through the ETL once (the session's built_small; read-only)."""
    from bakery.lakehouse import Lakehouse

    return Lakehouse(spark, built_small.settings), built_small.settings, built_small.report


def test_first_run_builds_every_layer_for_every_store(built):
    lh, settings, report = built
    assert report.ok, report.render()
    names = {(t.layer, t.name) for t in lh.list_tables()}
    for kind, spec in settings.sources.items():
        if kind == "sales":  # daily uploads only arrive through `bakery import`
            continue
        assert ("bronze", spec.table) in names, f"bronze.{spec.table} missing"
        assert ("silver", spec.table) in names, f"silver.{spec.table} missing"
    assert {("gold", "daily_sales"), ("gold", "features"), ("silver", "inventory_daily")} <= names
    stores = {r.store_id for r in lh.read("gold", "daily_sales").select("store_id").distinct().collect()}
    assert len(stores) == 2


def test_reconciliation_explains_every_bronze_row(built):
    from pyspark.sql import functions as F

    lh, _, _ = built
    rec = (
        lh.read("ops", "reconciliation")
        .groupBy("source")
        .agg(*(F.sum(c).alias(c) for c in ("bronze_rows", "silver_rows", "quarantined", "duplicates")))
    )
    for row in rec.collect():
        assert row.bronze_rows == row.silver_rows + row.quarantined + row.duplicates, row


def test_injected_defects_are_quarantined_with_a_rule(built, small_demo):
    lh, _, _ = built
    rules = {r.rule for r in lh.read("ops", "quarantine").select("rule").distinct().collect()}
    assert any(r.startswith("malformed") for r in rules), rules
    assert any(r.startswith("range:") for r in rules), rules


def test_rerun_changes_no_business_table(spark, built_small_copy):
    from bakery.etl import run_etl
    from bakery.lakehouse import Lakehouse

    settings = built_small_copy.settings
    lh = Lakehouse(spark, settings)
    before_versions, before_counts = _business_versions(lh), _counts(lh)
    report = run_etl(lh, settings, as_of=SMALL_AS_OF)
    assert report.ok, report.render()
    assert _business_versions(lh) == before_versions
    assert _counts(lh) == before_counts


def _run_cli(home: Path, *args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "bakery.cli", "--home", str(home), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def reference_counts(built) -> dict[str, int]:
    """Row counts of a clean, uninterrupted run over the small demo: the session's built_small, whose landing
    the killed runs below start from. It ran as of SMALL_AS_OF where `bakery ingest` runs as of today; over
    this data that changes nothing (no event lies past either date's future-day limit, and freshness only
    warns), so the counts of a clean run are the same."""
    lh, _, report = built
    assert report.ok, report.render()
    return _counts(lh)


def test_sigkill_mid_run_then_rerun_matches_clean_run(spark, tmp_path, small_demo, reference_counts):
    """A real `bakery ingest` process is SIGKILLed 4 s into the silver merges, after its bronze commits (the
    state a kill between bronze and silver leaves is a part of this one). The rerun (the same run_etl call, in
    the test session's Spark, which is no different from a fresh process over these tables) must end where a
    clean run does."""
    from bakery.etl import run_etl
    from bakery.lakehouse import Lakehouse

    settings = load_settings(home=tmp_path / "my home")  # a space in the path: the JVM options stay whole
    land_demo(small_demo, settings)
    lh = Lakehouse(spark, settings)
    killed = _run_cli(
        settings.home, "ingest", env_extra={"BAKERY_FAULT_POINT": "after_bronze", "BAKERY_FAULT_DELAY": "4"}
    )
    assert killed.returncode == -9, f"expected SIGKILL, got {killed.returncode}: {killed.stderr[-2000:]}"
    # conf/log4j2.properties: the JVM's start-up notes (loopback host, native Hadoop, log profile) stay off.
    assert not any(
        note in killed.stderr for note in ("Using Spark's default log4j", "NativeCodeLoader", "WARN Utils")
    )
    for t in lh.list_tables():  # every table that exists is readable after the crash
        lh.read(t.layer, t.name).count()
    assert any(t.layer == "bronze" for t in lh.list_tables())
    rerun = run_etl(lh, settings)
    assert rerun.ok, rerun.render()
    assert _counts(lh) == reference_counts
