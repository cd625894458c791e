"""Canary and automatic rollback: which stores a canary serves, and the decisions taken on live accuracy.

Both compare two model versions on the same served points (as_of, store, product, day), scored against the
sales that arrived later. Pure pandas; the registry moves and the reads are in bakery.monitoring.model_watch.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

PREVIOUS = "previous"  # gold.forecasts role of the former champion, forecast beside a new one while watched
POINT = ["as_of", "store_id", "product_id", "date"]
# Model-version tags of a canary: the stores it serves (JSON list) and the as-of date it started on.
CANARY_STORES_TAG, CANARY_STARTED_TAG = "canary_stores", "canary_started"


@dataclass(frozen=True)
class CanaryPolicy:
    enabled: bool = False
    share: float = 0.2  # of the stores, chosen by a hash of store and version: stable for one canary
    days: int = 14  # scored target days at the canary stores before the decision
    max_ratio: float = 1.0  # promote when challenger wMAPE <= champion wMAPE x this (the gate's margin)


@dataclass(frozen=True)
class RollbackPolicy:
    automatic: bool = True
    watch_days: int = 28  # after a promotion, the former champion is forecast beside the new one this long
    min_days: int = 7  # scored target days before judging
    min_points: int = 60
    tolerance: float = 0.30  # as monitoring's accuracy.tolerance: worse than promised by more than this


def policies(lifecycle: Mapping[str, Any], gate: Mapping[str, Any]) -> tuple[CanaryPolicy, RollbackPolicy]:
    """The policies of models.yml `lifecycle:` (canary, rollback); a bad value is an error naming its key."""

    def build(cls: type, raw: Mapping[str, Any], where: str) -> Any:
        unknown = set(raw) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"models.yml {where}: unknown key(s) {sorted(unknown)}")
        return cls(**{k: type(getattr(cls, k))(v) for k, v in raw.items()})

    canary_raw = {
        "max_ratio": gate.get("max_wmape_ratio_vs_champion", 1.0),
        **(lifecycle.get("canary") or {}),
    }
    canary = build(CanaryPolicy, canary_raw, "lifecycle.canary")
    rollback = build(RollbackPolicy, lifecycle.get("rollback") or {}, "lifecycle.rollback")
    if not 0 <= canary.share < 1:
        raise ValueError(f"models.yml lifecycle.canary.share is {canary.share}; expected 0 <= share < 1")
    if min(canary.days, rollback.watch_days, rollback.min_days) < 1 or rollback.tolerance < 0:
        raise ValueError("models.yml lifecycle: days, watch_days and min_days must be >= 1, tolerance >= 0")
    return canary, rollback


def canary_stores(store_ids: Iterable[str], version: str, share: float) -> list[str]:
    """The stores a canary of `version` serves: ceil(share x stores), at least one, never all of them (the
    champion keeps some to be compared with), chosen by hash so that the same canary keeps its stores."""
    stores = sorted(set(store_ids))
    if share <= 0 or len(stores) < 2:
        return []
    n = min(len(stores) - 1, max(1, math.ceil(share * len(stores))))
    ranked = sorted(stores, key=lambda s: hashlib.sha256(f"{version}/{s}".encode()).hexdigest())
    return sorted(ranked[:n])


@dataclass(frozen=True)
class Comparison:
    """Two versions on the same scored points: pooled wMAPE (%) of each, points and distinct target days."""

    version_a: str
    version_b: str
    wmape_a: float
    wmape_b: float
    points: int
    days: int

    def to_dict(self) -> dict[str, Any]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def compare(scored: pd.DataFrame, version_a: str, version_b: str) -> Comparison:
    """`scored` has POINT, model_version, yhat and y; only points both versions forecast count."""
    a = scored[scored["model_version"] == version_a].set_index(POINT)
    b = scored[scored["model_version"] == version_b].set_index(POINT)
    both = a[["yhat", "y"]].join(b[["yhat"]], rsuffix="_b", how="inner")
    den = both["y"].abs().sum()

    def wmape(col: str) -> float:
        return float(100 * (both[col] - both["y"]).abs().sum() / den) if den > 0 else float("nan")

    days = both.index.get_level_values("date").nunique() if len(both) else 0
    return Comparison(version_a, version_b, wmape("yhat"), wmape("yhat_b"), len(both), int(days))


def canary_decision(cmp: Comparison, policy: CanaryPolicy) -> str:
    """`wait` until the canary has `days` scored days; then `promote` when the challenger (version_a) did at
    least as well as the champion (version_b) by the gate's margin, else `end`."""
    if cmp.days < policy.days or not np.isfinite(cmp.wmape_a) or not np.isfinite(cmp.wmape_b):
        return "wait"
    return "promote" if cmp.wmape_a <= cmp.wmape_b * policy.max_ratio else "end"


def rollback_due(cmp: Comparison, expected_wmape: float | None, policy: RollbackPolicy) -> bool:
    """Roll the new champion (version_a) back when, on enough points, it breaks the backtest's promise by more
    than the tolerance and the former champion (version_b) on the same points would not have, and did better."""
    if cmp.days < policy.min_days or cmp.points < policy.min_points or expected_wmape is None:
        return False
    limit = expected_wmape * (1 + policy.tolerance)
    return cmp.wmape_a > limit and cmp.wmape_b <= limit and cmp.wmape_b < cmp.wmape_a
