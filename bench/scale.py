"""How the ETL grows with the chain: 6, 50 and 200 stores x 30 products, time per stage and peak memory.

Usage: .venv/bin/python bench/scale.py [--stores 6,50,200] [--years 1]
Each size runs in a fresh process (and fresh home); prints a table and the cost ratio per store.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline_speed import bench  # noqa: E402

log = logging.getLogger("bench.scale")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stores", default="6,50,200")
    parser.add_argument("--years", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sizes = [int(s) for s in args.stores.split(",")]
    rows = {n: bench(n, args.years, 1, mode="etl") for n in sizes}
    cols = ["generate", "bronze", "silver", "gold", "etl_total", "rerun_noop", "peak_rss_mb"]
    log.info("stores  " + "  ".join(f"{c:>11}" for c in cols) + "  etl_s/store  x_vs_first")
    base = rows[sizes[0]]["etl_total"] / sizes[0]
    for n, r in rows.items():
        per_store = r["etl_total"] / n
        log.info(
            f"{n:>6}  "
            + "  ".join(f"{r.get(c, float('nan')):>11.1f}" for c in cols)
            + f"  {per_store:>11.2f}  {per_store / base:>10.2f}"
        )


if __name__ == "__main__":
    main()
