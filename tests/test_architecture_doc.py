"""docs/architecture.md names modules in its diagrams and tables: each one must exist, so the page cannot drift
from the code silently."""

from __future__ import annotations

import importlib.util
import re

from tests import REPO_ROOT

DOC = REPO_ROOT / "docs" / "architecture.md"


def test_every_module_the_architecture_page_names_exists():
    names = sorted(set(re.findall(r"\bbakery(?:\.[a-z_]+)+", DOC.read_text(encoding="utf-8"))))
    assert len(names) > 15
    missing = [n for n in names if importlib.util.find_spec(n) is None]
    assert missing == []


def test_every_job_file_the_architecture_page_names_exists():
    paths = set(re.findall(r"\bjobs/[a-z_]+\.py", DOC.read_text(encoding="utf-8")))
    assert paths and all((REPO_ROOT / p).is_file() for p in paths), paths
