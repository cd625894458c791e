"""Dashboard fixtures: a home holding the small synthetic serving tables (delta-rs, no Spark), and a copy of
the repository's dashboards to break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bakery.config import Settings, load_settings

REPO_DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
_TABLES: dict[str, Path] = {}


@pytest.fixture(scope="package")
def sample_tables(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.app.sample_tables import write_sample_tables

    out = tmp_path_factory.mktemp("dash_tables") / "tables"
    write_sample_tables(out, stores=2, products=4, days=70)
    return out


@pytest.fixture
def dash_settings(tmp_path: Path, sample_tables: Path) -> Settings:
    settings = load_settings(home=tmp_path / "home")
    shutil.copytree(sample_tables, settings.tables_dir)
    return settings


@pytest.fixture
def dash_dir(tmp_path: Path) -> Path:
    """A writable copy of dashboards/ (tests break files in it)."""
    out = tmp_path / "dashboards"
    shutil.copytree(REPO_DASHBOARDS, out)
    return out
