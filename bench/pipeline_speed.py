"""Time `make demo`'s pipeline: generate 6 stores x 30 products x 3 years, then the daily pipeline (ETL,
first training, forecasts), per stage; then a rerun of the same day (ETL no-op, no training, forecasts rewritten).

Usage: .venv/bin/python bench/pipeline_speed.py [--runs 1] [--stores 6] [--years 3] [--etl-only]
Prints per-stage seconds (median over runs), the total, and the peak memory of the process tree.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import median, run_measured  # noqa: E402

log = logging.getLogger("bench.pipeline_speed")

_RUN_ETL = """
import json, sys, time
from datetime import date, timedelta
from bakery.config import load_settings
from bakery.generate import generate_demo
from bakery.lakehouse import Lakehouse
from bakery.logs import setup_logging
from bakery.spark import get_spark
setup_logging()
home, stores, years, etl_only = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == 'etl'
settings = load_settings(home=home)
end = date(2026, 11, 24); start = end - timedelta(days=365 * years - 1)
t0 = time.perf_counter()
generate_demo(settings.landing_dir, stores=stores, products=30, start=start, end=end, seed=42)
gen = time.perf_counter() - t0
t0 = time.perf_counter()
spark = get_spark(settings)
startup = time.perf_counter() - t0
if etl_only:
    from bakery.etl import run_etl
    t0 = time.perf_counter()
    report = run_etl(Lakehouse(spark, settings), settings, as_of=end + timedelta(days=1))
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    report2 = run_etl(Lakehouse(spark, settings), settings, as_of=end + timedelta(days=1))
    out = {"generate": gen, "spark_startup": startup, **report.seconds, "etl_total": first,
           "rerun_noop": time.perf_counter() - t0, "ok": report.ok and report2.ok}
else:
    from bakery.pipeline import run_pipeline
    t0 = time.perf_counter()
    report = run_pipeline(Lakehouse(spark, settings), settings, as_of=end + timedelta(days=1))
    first = time.perf_counter() - t0
    models = report.steps["models"].to_dict()
    t0 = time.perf_counter()
    report2 = run_pipeline(Lakehouse(spark, settings), settings, as_of=end + timedelta(days=1))
    rerun = time.perf_counter() - t0
    out = {"generate": gen, "spark_startup": startup, **report.seconds,
           **{f"train_{k}": v for k, v in (models["train"] or {}).get("seconds", {}).items()},
           "forecast": (models["forecast"] or {}).get("seconds", float("nan")),
           "pipeline_total": first, "rerun_same_day": rerun, "ok": report.ok and report2.ok}
print("RESULT " + json.dumps(out))
"""


def bench(stores: int, years: int, runs: int, etl_only: bool = False) -> dict[str, float]:
    """Median per-stage seconds (and peak RSS) of `runs` fresh runs; etl_only stops after gold."""
    samples: list[dict[str, float]] = []
    peaks: list[float] = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="bakery-bench-") as tmp:
            m = run_measured([sys.executable, "-c", _RUN_ETL, str(Path(tmp) / "home"), str(stores), str(years),
                               "etl" if etl_only else "pipeline"])
            if m.returncode != 0:
                raise SystemExit(f"benchmark run failed:\n{m.stderr[-4000:]}")
            line = next(ln for ln in m.stdout.splitlines() if ln.startswith("RESULT "))
            samples.append(json.loads(line[len("RESULT "):]))
            peaks.append(m.peak_rss_mb)
    keys = [k for k in samples[0] if k != "ok"]
    result = {k: median([s[k] for s in samples]) for k in keys}
    result["peak_rss_mb"] = median(peaks)
    result["ok"] = all(s["ok"] for s in samples)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--stores", type=int, default=6)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--etl-only", action="store_true", help="ETL (bronze, silver, gold) and its no-op rerun only")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    r = bench(args.stores, args.years, args.runs, args.etl_only)
    log.info("pipeline benchmark: %d stores x 30 products x %d years, median of %d run(s)",
             args.stores, args.years, args.runs)
    for key, value in r.items():
        log.info("  %-16s %s", key, f"{value:8.1f}" if isinstance(value, float) else value)
    if args.etl_only:
        return
    pipeline = r["spark_startup"] + r["pipeline_total"]
    log.info("  pipeline (startup + ETL + first training + forecast) = %.1f s; target < 180 s -> %s", pipeline,
             "met" if pipeline < 180 else "NOT met")


if __name__ == "__main__":
    main()
