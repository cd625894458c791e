"""Shared fixtures: one local SparkSession per test session, a fresh home per test, small demo data, and
the small demo built through the ETL once per session (read-only; tests that write work on a copy)."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from bakery.config import Settings, load_settings
from bakery.reports import JobReport

SMALL_START = date(2026, 1, 1)
SMALL_END = date(2026, 4, 30)
SMALL_AS_OF = SMALL_END + timedelta(days=1)  # the ETL's run date over the small demo

# The test session's Spark: tables of a few hundred rows, where fixed costs per query dominate. Compiling a
# query (whole-stage code generation) costs more than interpreting it, and Delta's log of a small table
# needs no more than one partition to replay. The results are the same either way.
TEST_SPARK = {
    "shuffle_partitions": 2,
    "driver_memory": "2g",
    "conf": {
        "spark.sql.codegen.wholeStage": "false",
        "spark.databricks.delta.snapshotPartitions": "1",
    },
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The packaged-jobs module first: it is the longest by minutes, and under `make test`'s two workers
    (pytest-xdist, whole files per worker) a worker left alone with it at the end would double the tail.
    Its tests share nothing with the rest (their own wheel, venv and processes), so order changes nothing."""
    first = {item.module for item in items if item.get_closest_marker("packaged") is not None}
    items.sort(key=lambda item: item.module not in first)  # stable: every other order is kept
    for item in items:  # `make test-fast` leaves out what needs a Spark session or drives a real browser
        if "spark" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.spark)
        if "browser" in item.path.name:
            item.add_marker(pytest.mark.browser)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The seconds each bundle task took in the packaged-jobs test, passed or failed: the figure to watch
    against its time budget (docs/benchmarks.md, packaged jobs)."""
    from tests.bundle_runner import TASK_SECONDS

    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) != "call":
                continue
            for name, timings in getattr(report, "user_properties", ()):
                if name == TASK_SECONDS and timings:
                    terminalreporter.write_line(
                        f"{report.nodeid}: seconds per bundle task {timings} (total {sum(timings.values()):.0f})"
                    )


@pytest.fixture(autouse=True)
def _entry_point_logging_stays_in_its_test():
    """A test that calls an entry point in-process (cli.main, a job) gets setup_logging's root handlers,
    bound to that test's captured stderr and home. Later tests must not log into those closed streams."""
    root = logging.getLogger()
    before, level = set(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in before and type(handler) in (logging.StreamHandler, logging.FileHandler):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


@pytest.fixture(autouse=True)
def _entry_point_spark_settings_stay_in_its_test():
    """The same for Spark: an entry point called in-process re-applies conf/base.yml's SQL settings to the
    shared session (see session_settings_kept); later tests run with the test session's own."""
    with session_settings_kept():
        yield


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory):
    from bakery.spark import get_spark

    settings = load_settings(home=tmp_path_factory.mktemp("spark_home"), overrides={"spark": TEST_SPARK})
    session = get_spark(settings)
    yield session
    session.stop()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(home=tmp_path / "home")


@pytest.fixture
def lh(spark, settings):
    from bakery.lakehouse import Lakehouse

    return Lakehouse(spark, settings)


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory: pytest.TempPathFactory):
    """A small generated data set (2 stores x 8 products x 4 months) as landing files; read-only."""
    from bakery.generate import generate_demo

    out = tmp_path_factory.mktemp("small_demo") / "landing"
    return generate_demo(out, stores=2, products=8, start=SMALL_START, end=SMALL_END, seed=7)


def land_demo(demo, settings: Settings) -> None:
    """Copy generated landing files into a home's landing zone, late files and the truth excluded."""
    shutil.copytree(demo.out, settings.landing_dir, ignore=shutil.ignore_patterns("_late", "_truth"))


@pytest.fixture
def small_home(settings: Settings, small_demo) -> Settings:
    """A fresh home whose landing zone holds a copy of the small demo data (late files excluded)."""
    land_demo(small_demo, settings)
    return settings


@dataclass(frozen=True)
class BuiltHome:
    """A home the ETL has run over, and the report of that run."""

    settings: Settings
    report: JobReport


def copy_home(source: Settings, home: Path) -> Settings:
    """A private copy of a home, tables included (a Delta table is a directory with relative paths, so a
    file copy is a valid copy). The source's Spark scratch directory is left behind."""
    shutil.copytree(source.home, home, ignore=shutil.ignore_patterns("_spark"))
    return load_settings(home=home)


@pytest.fixture(scope="session")
def built_small(spark, tmp_path_factory: pytest.TempPathFactory, small_demo) -> BuiltHome:
    """The small demo landed and run through bakery.etl.run_etl once, as of SMALL_AS_OF.

    Shared by the whole session, so it is read-only: a test that writes to it (a rerun, new files, MLflow
    runs) works on copy_home(built_small.settings, tmp_path / "home") or on built_small_copy.
    """
    from bakery.etl import run_etl
    from bakery.lakehouse import Lakehouse

    settings = load_settings(home=tmp_path_factory.mktemp("built_small") / "home")
    land_demo(small_demo, settings)
    report = run_etl(Lakehouse(spark, settings), settings, as_of=SMALL_AS_OF)
    return BuiltHome(settings, report)


@pytest.fixture
def built_small_copy(built_small: BuiltHome, tmp_path: Path) -> BuiltHome:
    """A writable copy of built_small for this test (same report)."""
    return BuiltHome(copy_home(built_small.settings, tmp_path / "built_home"), built_small.report)


@contextmanager
def session_settings_kept() -> Iterator[None]:
    """Put back the running SparkSession's SQL settings after the block. An entry point called in-process
    (cli.main, a job) gets this session from get_spark, whose getOrCreate re-applies conf/base.yml's
    modifiable settings (8 shuffle partitions where the test session has 2) for the rest of the session."""
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    before = dict(session.conf.getAll) if session is not None else None
    try:
        yield
    finally:
        if before is not None:  # static settings (driver memory, ...) cannot change on a running session
            after = dict(session.conf.getAll)
            for key in after.keys() - before.keys():
                if session.conf.isModifiable(key):
                    session.conf.unset(key)
            for key, value in before.items():
                if after.get(key) != value and session.conf.isModifiable(key):
                    session.conf.set(key, value)


@dataclass(frozen=True)
class CliRun:
    """What a `bakery` command returned: its exit code and what it wrote."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def bakery_cli(capsys: pytest.CaptureFixture) -> Callable[..., CliRun]:
    """`bakery --home HOME ARGS...` run in this process through bakery.cli.main (what the console script's
    run() calls before exiting with its code), sharing the test session's Spark instead of starting a
    second JVM. Tests of what only a separate process shows (a SIGKILL mid-run) use a subprocess."""
    from bakery.cli import main

    def run(home: Path, *args: str) -> CliRun:
        capsys.readouterr()
        with session_settings_kept():
            try:
                code = main(["--home", str(home), *args])
            except SystemExit as exc:  # argparse's usage errors
                code = exc.code
        out, err = capsys.readouterr()
        return CliRun(int(code), out, err)

    return run
