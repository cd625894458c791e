"""Small pure parts of the generator: date rules, exact splitting, weather codes, reproducible XLSX."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from bakery.generate.calendar import intervals
from bakery.generate.pos import split_totals
from bakery.generate.weather import wmo_code
from bakery.generate.writer import xlsx_bytes


@pytest.mark.parametrize(
    ("rule", "year", "expected"),
    [
        ({"easter": [14, 20]}, 2026, (date(2026, 4, 19), date(2026, 4, 25))),  # Feria de Abril
        (
            {"after": "08-15", "weekday": 5, "days": 9},
            2025,
            (date(2025, 8, 16), date(2025, 8, 24)),
        ),  # Aste Nagusia
        (
            {"after": "11-22", "weekday": 4, "days": 1},
            2026,
            (date(2026, 11, 27), date(2026, 11, 27)),
        ),  # Black Friday
        ({"start": "12-20", "end": "01-06"}, 2025, (date(2025, 12, 20), date(2026, 1, 6))),  # roscón
        ({"easter": -47}, 2026, (date(2026, 2, 17), date(2026, 2, 17))),  # Carnival Tuesday
        ("05-15", 2026, (date(2026, 5, 15), date(2026, 5, 15))),
    ],
)
def test_date_rules(rule, year, expected):
    assert intervals(rule, year) == [expected]


def test_split_totals_is_exact_and_respects_the_minimum():
    rng = np.random.default_rng(0)
    totals = np.array([1, 7, 100, 2500, 845])
    parts = np.array([1, 3, 40, 3, 2])
    minimum = np.array([1, 1, 1, 100, 100])
    pieces = split_totals(totals, parts, minimum, rng)
    bounds = np.concatenate(([0], np.cumsum(parts)))
    for i in range(totals.size):
        chunk = pieces[bounds[i] : bounds[i + 1]]
        assert chunk.sum() == totals[i] and (chunk >= minimum[i]).all()


def test_wmo_codes():
    temp = np.array([20.0, 20.0, 0.0, 25.0, 15.0])
    rain = np.array([0.0, 5.0, 3.0, 15.0, 0.0])
    humidity = np.array([50.0, 80.0, 90.0, 85.0, 97.0])
    cloud = np.array([0.3, 0.9, 0.9, 0.9, 0.9])
    assert wmo_code(temp, rain, humidity, cloud).tolist() == [0, 63, 73, 95, 45]


def test_xlsx_bytes_do_not_depend_on_the_clock():
    rows = [["2026-01-01T09:00:00+01:00", "ING01", "Harina", "SUP01", 0.62, None, None]]
    assert xlsx_bytes(["a", "b", "c", "d", "e", "f", "g"], rows, "s") == xlsx_bytes(
        ["a", "b", "c", "d", "e", "f", "g"], rows, "s"
    )
