"""Prophet's holiday table per store and the days-around-holiday features, from bakery.public_holidays plus the
configured categories and bakery days."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from bakery.models.config import ModelConfig
from bakery.public_holidays import public_holidays

AROUND_CAP_DAYS = 7


@lru_cache(maxsize=256)
def _legal(country: str, subdivision: str | None, years: tuple[int, ...], categories: tuple[str, ...]):
    """The store's public holidays (bakery.public_holidays, the one resolution gold uses too) in the configured
    categories, English names; logged warnings are gold's to give."""
    legal, _ = public_holidays(
        country, subdivision, years, categories=categories, native_names=False, quiet=True
    )
    return legal


def _legal_for(country: str, subdivision: str | None, years: range | list[int], cfg: ModelConfig):
    country = country.upper()
    cats = tuple(cfg.prophet.get("holiday_categories", {}).get(country, ["public"]))
    return _legal(country, subdivision, tuple(years), cats)


def holiday_table(
    country: str, subdivision: str | None, years: range | list[int], cfg: ModelConfig
) -> pd.DataFrame:
    """Prophet-style holidays frame (ds, holiday): legal holidays plus the configured bakery days."""
    legal = _legal_for(country, subdivision, years, cfg)
    rows = [(pd.Timestamp(d), name) for d, name in legal.items()]
    for mmdd, name in (cfg.prophet.get("extra_days") or {}).items():
        rows += [(pd.Timestamp(f"{y}-{mmdd}"), name) for y in years]
    table = pd.DataFrame(rows, columns=["ds", "holiday"])
    table["holiday"] = table["holiday"].str.replace(r"\s*\(.*\)$", "", regex=True)
    return table.drop_duplicates("ds").sort_values("ds").reset_index(drop=True)


def legal_holiday_dates(
    country: str, subdivision: str | None, years: range | list[int], cfg: ModelConfig
) -> np.ndarray:
    """Sorted legal holiday dates (no bakery extra days), for the days-around features."""
    legal = _legal_for(country, subdivision, years, cfg)
    return np.array(sorted(pd.Timestamp(d) for d in legal), dtype="datetime64[ns]")


def around_holiday(ds: pd.Series, hol_dates: np.ndarray, offsets: list[int]) -> pd.DataFrame:
    """Per date: 1.0 if a holiday lies at that offset (hol_m1 = the day before a holiday), plus the
    capped number of days to the next and from the previous holiday."""
    values = ds.to_numpy(dtype="datetime64[ns]")
    hol_set = set(hol_dates.tolist())
    out = {}
    for off in offsets:
        name = f"hol_m{-off}" if off < 0 else f"hol_p{off}"
        shifted = values - np.timedelta64(off, "D")
        out[name] = np.fromiter((d in hol_set for d in shifted.tolist()), dtype=float, count=len(values))
    if len(hol_dates):
        idx = np.searchsorted(hol_dates, values, side="left")
        nxt = hol_dates[np.minimum(idx, len(hol_dates) - 1)]
        to_next = (nxt - values) / np.timedelta64(1, "D")
        to_next = np.where((idx < len(hol_dates)) & (to_next >= 0), to_next, AROUND_CAP_DAYS)
        idx_prev = np.searchsorted(hol_dates, values, side="right") - 1
        prv = hol_dates[np.maximum(idx_prev, 0)]
        from_prev = (values - prv) / np.timedelta64(1, "D")
        from_prev = np.where(idx_prev >= 0, from_prev, AROUND_CAP_DAYS)
    else:
        to_next = from_prev = np.full(len(values), AROUND_CAP_DAYS, dtype=float)
    out["days_to_holiday"] = np.minimum(to_next, AROUND_CAP_DAYS)
    out["days_from_holiday"] = np.minimum(from_prev, AROUND_CAP_DAYS)
    out["is_holiday"] = np.isin(values, hol_dates).astype(float)
    return pd.DataFrame(out, index=ds.index)


def around_columns(cfg: ModelConfig) -> list[str]:
    return [f"hol_m{-o}" if o < 0 else f"hol_p{o}" for o in cfg.prophet.get("around_holiday_offsets", [])]
