"""Shared fixtures: one local SparkSession per test session, a fresh home per test, small demo data."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bakery.config import Settings, load_settings

SMALL_START = date(2026, 1, 1)
SMALL_END = date(2026, 4, 30)


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory):
    from bakery.spark import get_spark

    settings = load_settings(home=tmp_path_factory.mktemp("spark_home"),
                             overrides={"spark": {"shuffle_partitions": 2, "driver_memory": "2g"}})
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


@pytest.fixture
def small_home(settings: Settings, small_demo) -> Settings:
    """A fresh home whose landing zone holds a copy of the small demo data (late files excluded)."""
    import shutil

    shutil.copytree(small_demo.out, settings.landing_dir, ignore=shutil.ignore_patterns("_late", "_truth"))
    return settings
