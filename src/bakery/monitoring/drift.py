"""Data drift: are this week's model inputs still like the ones the model learned from? Per store, for the
sales level, the weekday shape of sales, weather, promotions and foot traffic: PSI, and a two-sample KS test
for the numeric inputs. Pure pandas and scipy; bakery.monitoring.drift_io reads and writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from bakery.tables import FEATURE_DRIFT

# Per store and day: the numeric inputs compared; weekday_shape is compared as shares.
NUMERIC = ("sales_level", "temperature", "precipitation", "promo_share", "foot_traffic")
EPS = 1e-4  # PSI's floor for an empty bin, so that ln(c/r) stays finite
MIN_WEEKS = 8  # running weeks of the reference a week's mean is judged among (two weeks of consecutive days)
# Inputs the chain decides and tells the model ahead, without a season: compared with the last
# `planned_reference_weeks` (what the model learned their effect from) and stored, never alerted. An unusual
# campaign is the chain's own decision, and the feed errors a drift test could mean (promotions missing or
# entered twice) do not show in a week's share of products on promotion.
PLANNED = ("promo_share",)
DRIFT_COLUMNS = FEATURE_DRIFT.columns


@dataclass(frozen=True)
class DriftRule:
    current_days: int = 7
    season_weeks: int = 3
    fallback_weeks: int = 8
    min_reference_days: int = 14
    psi: float = 0.25
    ks_alpha: float = 0.001
    weekday_shape_psi: float = 0.10
    planned_reference_weeks: int = 52

    @classmethod
    def from_conf(cls, raw: dict[str, Any]) -> DriftRule:
        d = raw.get("drift") or {}
        return cls(**{k: type(getattr(cls, k))(v) for k, v in d.items() if k in cls.__dataclass_fields__})


def psi(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """Population stability index of `current` against `reference`, on the reference's decile edges."""
    reference, current = reference[~np.isnan(reference)], current[~np.isnan(current)]
    if len(reference) == 0 or len(current) == 0:
        return float("nan")
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    r = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=len(edges) + 1) / len(
        reference
    )
    c = np.bincount(np.searchsorted(edges, current, side="right"), minlength=len(edges) + 1) / len(current)
    return share_psi(r, c)


def share_psi(reference: np.ndarray, current: np.ndarray) -> float:
    r, c = np.clip(reference, EPS, None), np.clip(current, EPS, None)
    return float(np.sum((c - r) * np.log(c / r)))


def store_days(features: pd.DataFrame, traffic: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per open store-day: total sales, weather, the share of products on promotion, foot traffic."""
    open_rows = features[features["is_open"].fillna(False).astype(bool)]
    open_rows = open_rows.assign(date=pd.to_datetime(open_rows["date"]))
    days = open_rows.groupby(["store_id", "date"], as_index=False).agg(
        sales_level=("y", "sum"),
        temperature=("temperature", "mean"),
        precipitation=("precipitation", "mean"),
        promo_share=("promo", "mean"),
    )
    if traffic is not None and len(traffic):
        stamps = pd.to_datetime(traffic["timestamp"], utc=True).dt.tz_localize(None)
        daily = traffic.assign(date=stamps.dt.normalize().astype("datetime64[ns]"))
        daily = daily.groupby(["store_id", "date"], as_index=False)["foot_traffic_count"].sum()
        days = days.merge(
            daily.rename(columns={"foot_traffic_count": "foot_traffic"}), on=["store_id", "date"], how="left"
        )
    else:
        days["foot_traffic"] = np.nan
    return days


def reference_days(days: pd.DataFrame, evaluated_on: date, rule: DriftRule) -> pd.DataFrame:
    """Per store, the same weeks (± season_weeks) of earlier years, so that December is compared with
    Decembers; for a store with fewer than min_reference_days of those, the fallback_weeks before the
    current week."""
    end = pd.Timestamp(evaluated_on)
    start = end - pd.Timedelta(days=rule.current_days)
    past = days[days["date"] <= start]
    in_season = np.zeros(len(past), dtype=bool)
    for years in range(1, 6):
        centre = end - pd.DateOffset(years=years)
        half = pd.Timedelta(weeks=rule.season_weeks)
        in_season |= ((past["date"] > centre - half) & (past["date"] <= centre + half)).to_numpy()
    seasonal = past[in_season]
    enough = seasonal.groupby("store_id").size()
    enough = set(enough[enough >= rule.min_reference_days].index)
    recent = past[
        (past["date"] > start - pd.Timedelta(weeks=rule.fallback_weeks)) & ~past["store_id"].isin(enough)
    ]
    return pd.concat([seasonal[seasonal["store_id"].isin(enough)], recent], ignore_index=True)


def week_means(frame: pd.DataFrame, feature: str, days: int) -> np.ndarray:
    """The means of every `days` consecutive days of a feature in `frame` (one store): the reference's own
    weeks, wherever its days run on without a gap."""
    daily = frame[["date", feature]].dropna().sort_values("date")
    values, dates = daily[feature].to_numpy(dtype=float), daily["date"].to_numpy()
    if len(values) < days:
        return np.empty(0)
    sums = np.convolve(values, np.ones(days), mode="valid")
    gaps = np.concatenate(([0], np.cumsum(np.diff(dates) != np.timedelta64(1, "D"))))
    unbroken = gaps[days - 1 :] == gaps[: len(gaps) - days + 1]
    return sums[unbroken] / days


def mean_shift_pvalue(reference: pd.DataFrame, feature: str, current: np.ndarray) -> float:
    """Two-sided p-value of the current days' mean as one more of the reference's weeks (its runs of as many
    consecutive days): a t prediction interval on the reference's independent weeks. Daily weather, sales and
    campaigns persist from one day to the next, so seven days of one warm spell weigh like a day or two, not
    seven: a test that takes them as independent (KS) finds most warm weeks significant. And a reference of
    two earlier years' windows holds few independent weeks, so their spread is itself uncertain (t, not
    normal). NaN (not judged) with fewer than MIN_WEEKS running weeks."""
    weeks = week_means(reference, feature, len(current))
    independent = reference[feature].notna().sum() // len(current)
    if len(weeks) < MIN_WEEKS or independent < 2 or np.ptp(weeks) == 0:
        return float("nan")
    t = (current.mean() - weeks.mean()) / (weeks.std(ddof=1) * np.sqrt(1 + 1 / independent))
    return float(2 * stats.t.sf(abs(t), df=independent - 1))


def _weekday_shares(frame: pd.DataFrame) -> np.ndarray:
    by_day = frame.groupby(frame["date"].dt.dayofweek)["sales_level"].mean().reindex(range(7), fill_value=0.0)
    total = by_day.sum()
    return (by_day / total).to_numpy() if total > 0 else np.full(7, 1 / 7)


def compare(days: pd.DataFrame, evaluated_on: date, rule: DriftRule) -> pd.DataFrame:
    """One row per store and feature with PSI, KS and whether it drifted."""
    end = pd.Timestamp(evaluated_on)
    current = days[(days["date"] > end - pd.Timedelta(days=rule.current_days)) & (days["date"] <= end)]
    reference = reference_days(days, evaluated_on, rule)
    rows = []
    for store, cur in current.groupby("store_id"):
        ref = reference[reference["store_id"] == store]
        if len(ref) < rule.min_reference_days:
            continue
        own = days[days["store_id"] == store]
        before = end - pd.Timedelta(days=rule.current_days)
        since = before - pd.Timedelta(weeks=rule.planned_reference_weeks)
        planned = own[(own["date"] <= before) & (own["date"] > since)]
        for feature in NUMERIC:
            base = planned if feature in PLANNED else ref
            r, c = base[feature].to_numpy(dtype=float), cur[feature].to_numpy(dtype=float)
            r, c = r[~np.isnan(r)], c[~np.isnan(c)]
            if len(r) < rule.min_reference_days or len(c) < 3 or np.ptp(np.concatenate([r, c])) == 0:
                continue
            ks = stats.ks_2samp(r, c)
            value = psi(r, c)
            shifted = feature not in PLANNED and mean_shift_pvalue(base, feature, c) < rule.ks_alpha
            rows.append(
                (
                    store,
                    feature,
                    value,
                    float(ks.statistic),
                    float(ks.pvalue),
                    r.mean(),
                    c.mean(),
                    len(r),
                    len(c),
                    bool(value >= rule.psi and ks.pvalue < rule.ks_alpha and shifted),
                )
            )
        if len(cur) >= 7:  # a whole week, or its shape is not a shape
            r_shape, c_shape = _weekday_shares(ref), _weekday_shares(cur)
            value = share_psi(r_shape, c_shape)
            rows.append(
                (
                    store,
                    "weekday_shape",
                    value,
                    np.nan,
                    np.nan,
                    np.nan,
                    np.nan,
                    len(ref),
                    len(cur),
                    bool(value >= rule.weekday_shape_psi),
                )
            )
    out = pd.DataFrame(rows, columns=DRIFT_COLUMNS[1:])
    out.insert(0, "evaluated_on", pd.Timestamp(evaluated_on).date())
    return out


def reference_window(evaluated_on: date, rule: DriftRule) -> tuple[date, date]:
    """The first and last day a comparison may read: five years back for the seasonal reference."""
    return evaluated_on - timedelta(days=5 * 366 + 7 * rule.season_weeks), evaluated_on
