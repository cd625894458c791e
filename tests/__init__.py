"""The test suite; REPO_ROOT is the checkout under test (library code never computes paths into it)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
