"""How well the expected-closed-day rule (bakery.models.opening) predicts the real chain's closed days.

For weekly as-of dates, the days as_of+1..as_of+28 it marks closed are compared with the days each store
actually had no sales (ddop bakery chain: closed Sundays, holidays, two mostly closed stores). Prints the
precision (marked days that were closed), the recall (closed days it marked) and the sales of the days it
wrongly marked. Usage: .venv/bin/python bench/closures.py [--start 2017-06-04 --end 2019-04-02]
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import load_chain  # noqa: E402

from bakery.models.config import load_model_config  # noqa: E402
from bakery.models.frames import model_frame  # noqa: E402
from bakery.models.opening import expected_closures  # noqa: E402

log = logging.getLogger("bench.closures")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", default="2017-06-04")
    parser.add_argument("--end", default="2019-04-02")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    cfg = load_model_config()
    features = model_frame(load_chain(), cfg)
    days = (features.groupby(["store_id", "date"]).agg(is_open=("is_open", "any"), sales=("y", "sum"))
            .reset_index().rename(columns={"date": "ds"}))
    marked = hits = closed = 0
    wrong_sales = total_sales = 0.0
    reasons: dict[str, int] = {}
    as_ofs = pd.date_range(args.start, args.end, freq="7D")
    for as_of in as_ofs:
        found = expected_closures(features[features["date"] <= as_of], cfg, as_of.date())
        ahead = days[(days["ds"] > as_of) & (days["ds"] <= as_of + pd.Timedelta(days=cfg.max_horizon))]
        scored = ahead.merge(found, on=["store_id", "ds"], how="left")
        flagged = scored["reason"].notna()
        marked += int(flagged.sum())
        hits += int((flagged & ~scored["is_open"]).sum())
        closed += int((~scored["is_open"]).sum())
        wrong_sales += float(scored.loc[flagged & scored["is_open"], "sales"].sum())
        total_sales += float(scored["sales"].sum())
        for reason in scored.loc[flagged & scored["is_open"], "reason"]:
            reasons[reason] = reasons.get(reason, 0) + 1
    log.info("%d as-of dates %s..%s, next %d days each", len(as_ofs), args.start, args.end, cfg.max_horizon)
    log.info("marked closed: %d days, of which closed %d (precision %.4f)", marked, hits, hits / max(marked, 1))
    log.info("closed days: %d, marked %d (recall %.4f)", closed, hits, hits / max(closed, 1))
    log.info("sales on days wrongly marked closed: %.0f of %.0f (%.5f)", wrong_sales, total_sales,
             wrong_sales / max(total_sales, 1.0))
    for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1])[:5]:
        log.info("  wrongly marked: %s x%d", reason, n)


if __name__ == "__main__":
    main()
