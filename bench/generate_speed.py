"""Time the demo generator: 6 stores x 30 products x 3 years, median of 3 runs (--stores for scale runs)."""

from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bakery.generate import generate_demo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stores", type=int, default=6)
    parser.add_argument("--products", type=int, default=30)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    end = date(2026, 11, 24)
    start = end - timedelta(days=365 * args.years - 1)
    seconds, cpu = [], []
    summary = None
    for _ in range(args.runs):
        out = Path(tempfile.mkdtemp(prefix="bakery_gen_bench_"))
        try:
            wall0, cpu0 = time.perf_counter(), time.process_time()
            summary = generate_demo(
                out / "landing", stores=args.stores, products=args.products, start=start, end=end
            )
            seconds.append(time.perf_counter() - wall0)
            cpu.append(time.process_time() - cpu0)
        finally:
            shutil.rmtree(out, ignore_errors=True)
    assert summary is not None
    pos_rows = summary.rows.get("pos", 0)
    median = statistics.median(seconds)
    print(
        f"generate {args.stores} stores x {args.products} products x {args.years} years "
        f"({start}..{end}): median {median:.1f} s wall, {statistics.median(cpu):.1f} s CPU over {args.runs} runs "
        f"[{', '.join(f'{s:.1f}' for s in seconds)}]"
    )
    print(f"  {summary.files} files, {pos_rows:,} POS lines, {pos_rows / median:,.0f} POS lines/s")


if __name__ == "__main__":
    main()
