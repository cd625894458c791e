"""When the backtest behind the Metrics page was computed and, what matters to the reader, up to which day of
data it was evaluated: the last target day it scored (gold.backtest_results), not the day it ran."""

from __future__ import annotations

from datetime import date

import pandas as pd

from bakery.app.queries import ServingData
from bakery.tables import BACKTEST_RESULTS


def data_cutoff(serving: ServingData, run_ids: list[str]) -> date | None:
    """The last day scored by the backtest runs `run_ids` (all runs when none of them is in the results), or
    None when gold.backtest_results is empty or missing."""
    key = (BACKTEST_RESULTS.layer, BACKTEST_RESULTS.name)

    def load(v: dict) -> date | None:
        if v.get(key) is None:
            return None
        df = serving.reader.read(*key, version=v[key], columns=["run_id", "date"])
        if df.empty:
            return None
        ours = df[df["run_id"].isin(run_ids)]
        last = (ours if len(ours) else df)["date"].max()
        return pd.Timestamp(last).date() if pd.notna(last) else None

    return serving.cached(("backtest_cutoff", tuple(sorted(run_ids))), (key,), load)
