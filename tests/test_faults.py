"""Fault points are named and inert unless a test enables one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bakery.faults import POINTS, fault_point


def test_a_point_does_nothing_unless_enabled(monkeypatch) -> None:
    monkeypatch.setenv("BAKERY_FAULT_POINT", "forecast_before_write")
    for name in POINTS - {"forecast_before_write"}:
        fault_point(name)  # another point is enabled: this one passes


def test_an_unknown_point_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="fault point 'typo_before_write'"):
        fault_point("typo_before_write")


def test_every_point_the_runtime_passes_is_named() -> None:
    src = Path(__file__).resolve().parents[1] / "src" / "bakery"
    passed = {
        m for p in src.rglob("*.py") for m in re.findall(r'fault_point\("(\w+)"\)', p.read_text("utf-8"))
    }
    assert passed == POINTS
