"""Does foot traffic add anything a forecast could use? On the generated chain (the only shipped data set with
traffic counts), per store: how much of the variance of daily demand (true units, weekday effects taken out)
is explained by the demand of a week before, and how much more by the foot traffic of a week before, by the same day's traffic (not
known when forecasting) for scale, all out of sample (fit on the first two thirds of the days, scored on the
rest).

Usage: .venv/bin/python bench/foot_traffic_value.py [--stores 6] [--years 2]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import median  # noqa: E402

log = logging.getLogger("bench.foot_traffic_value")


def daily_frames(landing: Path) -> pd.DataFrame:
    """Store-day true demand (the generator's truth, free of the injected POS defects) and visitors, on open
    days."""
    truth = pd.read_parquet(landing / "_truth" / "demand.parquet")
    truth = truth[~truth["closed"]]
    truth["day"] = pd.to_datetime(truth["date"]).dt.strftime("%Y-%m-%d")
    units = truth.groupby(["store_id", "day"])["true_demand"].sum().rename("units")
    traffic = pd.concat(pd.read_parquet(p) for p in landing.glob("traffic/*.parquet"))
    traffic["day"] = traffic["timestamp"].str[:10]
    visitors = traffic.groupby(["store_id", "day"])["foot_traffic_count"].sum().rename("visitors")
    return pd.concat([units, visitors], axis=1).dropna().reset_index()


def r2_out_of_sample(y: np.ndarray, x: np.ndarray, split: int) -> float:
    """R^2 on the last days of a least-squares fit (with intercept and weekday dummies) on the first ones."""
    coef, *_ = np.linalg.lstsq(x[:split], y[:split], rcond=None)
    resid = y[split:] - x[split:] @ coef
    return float(1 - (resid**2).sum() / ((y[split:] - y[split:].mean()) ** 2).sum())


def store_scores(days: pd.DataFrame) -> dict[str, float]:
    d = days.sort_values("day").assign(day=lambda f: pd.to_datetime(f["day"])).set_index("day")
    d = d.asfreq("D")
    frame = pd.DataFrame(
        {
            "y": d["units"],
            "sales_w1": d["units"].shift(7),
            "visitors_w1": d["visitors"].shift(7),
            "visitors_same_day": d["visitors"],
            "weekday": d.index.dayofweek,
        }
    ).dropna()
    dummies = pd.get_dummies(frame["weekday"], prefix="wd", dtype=float).to_numpy()
    ones = np.ones((len(frame), 1))
    split = int(len(frame) * 2 / 3)
    y = frame["y"].to_numpy()

    def with_(*cols: str) -> np.ndarray:
        return np.hstack([ones, dummies[:, 1:], frame[list(cols)].to_numpy()])

    return {
        "demand a week before": r2_out_of_sample(y, with_("sales_w1"), split),
        "+ visitors a week before": r2_out_of_sample(y, with_("sales_w1", "visitors_w1"), split),
        "+ visitors the same day (unknowable)": r2_out_of_sample(
            y, with_("sales_w1", "visitors_same_day"), split
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stores", type=int, default=6)
    parser.add_argument("--years", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from bakery.generate import generate_demo

    end = date(2026, 11, 24)
    with tempfile.TemporaryDirectory(prefix="bakery-bench-") as tmp:
        landing = Path(tmp) / "landing"
        generate_demo(
            landing,
            stores=args.stores,
            products=30,
            start=end - timedelta(days=365 * args.years),
            end=end,
            seed=42,
        )
        days = daily_frames(landing)
    scores = [store_scores(g) for _, g in days.groupby("store_id")]
    log.info(
        "foot traffic, generated chain: %d stores x %d years, out-of-sample R^2 of daily units (median of stores)",
        args.stores,
        args.years,
    )
    for key in scores[0]:
        log.info("  %-38s %.3f", key, median([s[key] for s in scores]))


if __name__ == "__main__":
    main()
