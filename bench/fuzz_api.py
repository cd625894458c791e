"""The HTTP API fuzzed against its OpenAPI document for many examples: tests/app/test_api_fuzz.py (schemathesis on a
real server over loopback) with BAKERY_API_FUZZ_EXAMPLES examples per operation instead of the suite's 30.

Prints the operations checked, the failures (any 5xx, undocumented status, content type or body shape) and the
wall time; writes bench/out/fuzz_api.json.

Usage: .venv/bin/python bench/fuzz_api.py [--examples 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=1000, help="examples per API operation")
    args = ap.parse_args()
    env = {**os.environ, "BAKERY_API_FUZZ_EXAMPLES": str(args.examples)}
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", "tests/app/test_api_fuzz.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - t0
    tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    counts = {k: int(n) for n, k in re.findall(r"(\d+) (passed|failed|error|errors)", tail)}
    failures = [line for line in proc.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    result = {
        "examples_per_operation": args.examples,
        "seconds": round(seconds, 1),
        "counts": counts,
        "failures": failures,
        "exit_code": proc.returncode,
    }
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "fuzz_api.json").write_text(json.dumps(result, indent=2))
    print(f"{args.examples} examples per operation in {seconds:.0f}s: {tail}")
    for line in failures:
        print(line)
    if proc.returncode != 0:  # the failing case, as schemathesis reproduces it
        print(proc.stdout[-6000:], proc.stderr[-2000:], sep="\n")
    print(f"written to {out / 'fuzz_api.json'}")
    sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
