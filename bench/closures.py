"""How well the expected-closed-day rule (bakery.models.opening) predicts the real chain's closed days, and what
the off-sale rule (bakery.models.offering) marks there.

For weekly as-of dates, the days as_of+1..as_of+28 it marks closed are compared with the days each store
actually had no sales (ddop bakery chain: closed Sundays, holidays, two mostly closed stores). Prints the
precision (marked days that were closed), the recall (closed days it marked) and the sales of the days it
wrongly marked. Usage: .venv/bin/python bench/closures.py [--start 2017-06-04 --end 2019-04-02]
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import EVAL_START, load_chain  # noqa: E402

from bakery.models.config import load_model_config  # noqa: E402
from bakery.models.frames import model_frame  # noqa: E402
from bakery.models.offering import expected_not_offered  # noqa: E402
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
    days = (
        features.groupby(["store_id", "date"])
        .agg(is_open=("is_open", "any"), sales=("y", "sum"))
        .reset_index()
        .rename(columns={"date": "ds"})
    )
    as_ofs = pd.date_range(args.start, args.end, freq="7D")
    horizon = pd.Timedelta(days=cfg.max_horizon)
    tallies: dict[str, Tally] = {}
    off_sale: dict[str, list] = {}
    series = features.assign(
        observed=features["y"].notna() & features["is_open"] & features["is_offered"]
    ).rename(columns={"date": "ds"})[["store_id", "product_id", "ds", "observed", "y"]]
    for as_of in as_ofs:
        found = expected_closures(features[features["date"] <= as_of], cfg, as_of.date())
        ahead = days[(days["ds"] > as_of) & (days["ds"] <= as_of + horizon)]
        # Windows reaching into bench/accuracy.py's evaluation window are tallied apart: a change to the rule is
        # judged on the earlier ones only.
        window = "evaluation window" if as_of + horizon >= EVAL_START else "before the evaluation window"
        tallies.setdefault(window, Tally()).add(ahead.merge(found, on=["store_id", "ds"], how="left"))
        off = expected_not_offered(features[features["date"] <= as_of], cfg, as_of.date())
        sold = series[(series["ds"] > as_of) & (series["ds"] <= as_of + horizon)].merge(
            off, on=["store_id", "product_id", "ds"]
        )
        off_sale[window] = [
            a + b
            for a, b in zip(
                off_sale.get(window, [0, 0, 0.0]),
                [len(off), int(sold["observed"].sum()), float(sold["y"].sum())],
                strict=True,
            )
        ]
    log.info("%d as-of dates %s..%s, next %d days each", len(as_ofs), args.start, args.end, cfg.max_horizon)
    for window, tally in [*tallies.items(), ("all", sum(tallies.values(), Tally()))]:
        tally.report(window)
    for window, (marked, wrong, sales) in off_sale.items():
        log.info(
            "%s: series-days marked off sale %d, of which had an observation %d (sales %.0f)",
            window,
            marked,
            wrong,
            sales,
        )


@dataclass
class Tally:
    """Marked, correctly marked and closed days, and the sales on days wrongly marked."""

    marked: int = 0
    hits: int = 0
    closed: int = 0
    wrong_sales: float = 0.0
    total_sales: float = 0.0
    reasons: Counter = field(default_factory=Counter)
    by_rule: Counter = field(default_factory=Counter)
    wrong_by_rule: Counter = field(default_factory=Counter)

    def add(self, scored: pd.DataFrame) -> None:
        flagged = scored["reason"].notna()
        wrong = flagged & scored["is_open"]
        self.marked += int(flagged.sum())
        self.hits += int((flagged & ~scored["is_open"]).sum())
        self.closed += int((~scored["is_open"]).sum())
        self.wrong_sales += float(scored.loc[wrong, "sales"].sum())
        self.total_sales += float(scored["sales"].sum())
        self.reasons.update(scored.loc[wrong, "reason"])
        rule = scored["reason"].str.startswith("closed on each").map({True: "weekday", False: "holiday"})
        self.by_rule.update(rule[flagged])
        self.wrong_by_rule.update(rule[wrong])

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.marked + other.marked,
            self.hits + other.hits,
            self.closed + other.closed,
            self.wrong_sales + other.wrong_sales,
            self.total_sales + other.total_sales,
            self.reasons + other.reasons,
            self.by_rule + other.by_rule,
            self.wrong_by_rule + other.wrong_by_rule,
        )

    def report(self, window: str) -> None:
        log.info(
            "%s: marked closed %d days, of which closed %d (precision %.4f); closed days %d, marked %d "
            "(recall %.4f); sales on days wrongly marked %.0f of %.0f (%.5f)",
            window,
            self.marked,
            self.hits,
            self.hits / max(self.marked, 1),
            self.closed,
            self.hits,
            self.hits / max(self.closed, 1),
            self.wrong_sales,
            self.total_sales,
            self.wrong_sales / max(self.total_sales, 1.0),
        )
        for rule in sorted(self.by_rule):
            log.info(
                "  %s rule: marked %d, of which open %d", rule, self.by_rule[rule], self.wrong_by_rule[rule]
            )
        for reason, n in self.reasons.most_common(5):
            log.info("  wrongly marked: %s x%d", reason, n)


if __name__ == "__main__":
    main()
