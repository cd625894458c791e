"""The file parsers' hypothesis properties (tests/ingest/fuzz_properties.py) run for many examples, and how
the time to parse one cell grows with its length.

Prints, per property, the examples run and the failure found (if any: hypothesis stops a property at its
first failure and shrinks it), then the median and p99 time per parse of a pathological cell (a digit,
10,000 spaces, a letter: the shape that took cubic time) against a normal cell; a ratio of times at or
below the ratio of lengths (~1,400) means linear time (cubic time would be ~1,400^3).

Usage: .venv/bin/python bench/fuzz_parsers.py [--examples 5000] [--repeat 50] [--batch 100]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.ingest.fuzz_properties import (  # noqa: E402
    LIMITS,
    NORMAL_CELL,
    PROPERTIES,
    SETTINGS,
    Property,
    pathological_cell,
)

from bakery.ingest.validate import parse_numbers, validate_frame  # noqa: E402

log = logging.getLogger("bench.fuzz_parsers")


def run_property(prop: Property, examples: int) -> tuple[int, str | None]:
    """(examples run, the failure or None)."""
    count = 0

    def counted(args: tuple[object, ...]) -> None:
        nonlocal count
        count += 1
        prop.test(*args)

    runner = settings(
        max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )(given(st.tuples(*prop.strategies))(counted))
    try:
        runner()
    except Exception as exc:  # the property's failure, shrunk by hypothesis: reported, not raised
        first = (str(exc).strip().splitlines() or [""])[0]
        return count, f"{type(exc).__name__}: {first[:300]}"
    return count, None


def timings(parse: Callable[[list[str]], object], cell: str, repeat: int, batch: int) -> tuple[float, float]:
    """Median and p99 seconds per cell, parsing `batch` copies of `cell` at a time (the fixed cost of a call
    is shared out, so the figure is the cell's own)."""
    cells = [cell] * batch
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        parse(cells)
        times.append((time.perf_counter() - t0) / batch)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(0.99 * len(times)))]


def _numbers(cells: list[str]) -> object:
    return parse_numbers(pd.Series(cells, dtype=object))


def _validate(cells: list[str]) -> object:
    n = len(cells)
    df = pd.DataFrame(
        {
            "date": ["2026-01-01"] * n,
            "store_id": ["S01"] * n,
            "product_id": [f"P{i}" for i in range(n)],
            "quantity_sold": cells,
        },
        index=pd.Index(range(1, n + 1), name="row"),
        dtype=object,
    )
    return validate_frame(df, SETTINGS.source("sales"), limits=LIMITS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=5000, help="hypothesis examples per property")
    parser.add_argument("--repeat", type=int, default=50, help="timed calls per figure")
    parser.add_argument("--length", type=int, default=10_000, help="length of the pathological cell")
    parser.add_argument("--batch", type=int, default=100, help="cells per parse call")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    failures = 0
    log.info("%-20s %9s  %s", "property", "examples", "result")
    for prop in PROPERTIES:
        t0 = time.perf_counter()
        count, failure = run_property(prop, args.examples)
        failures += failure is not None
        log.info("%-20s %9d  %s (%.1fs)", prop.name, count, failure or "ok", time.perf_counter() - t0)
    log.info("")
    bad = pathological_cell(args.length)
    log.info(
        "time per cell, %d-char pathological cell vs %r (batches of %d)", len(bad), NORMAL_CELL, args.batch
    )
    log.info("%-40s %12s %12s", "", "median", "p99")
    for name, parse in (
        ("parse_numbers", _numbers),
        ("validate_frame (cell refused as too long)", _validate),
    ):
        (bad_med, bad_p99) = timings(parse, bad, args.repeat, args.batch)
        (ok_med, ok_p99) = timings(parse, NORMAL_CELL, args.repeat, args.batch)
        log.info("%s", name)
        for label, med, p99 in (("  pathological", bad_med, bad_p99), ("  normal", ok_med, ok_p99)):
            log.info("%-40s %10.2fus %10.2fus", label, 1e6 * med, 1e6 * p99)
        log.info(
            "%-40s %11.1fx (length ratio %.0fx)",
            "  ratio of medians",
            bad_med / ok_med,
            len(bad) / len(NORMAL_CELL),
        )
    log.info("\n%d propert%s, %d failing", len(PROPERTIES), "y" if len(PROPERTIES) == 1 else "ies", failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
