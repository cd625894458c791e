"""The file parsers under hypothesis: numbers, dates, ids, whole files of any bytes, mapping and shape JSON.

The properties live in fuzz_properties.py (bench/fuzz_parsers.py runs the same ones for longer).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from tests.ingest.fuzz_properties import PROPERTIES, Property

FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("prop", PROPERTIES, ids=[p.name for p in PROPERTIES])
def test_parser_property_holds(prop: Property):
    FUZZ(given(*prop.strategies)(prop.test))()
