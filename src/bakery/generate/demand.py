"""The demand model: expected daily demand per store x product x day, and the sampled true demand."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bakery.generate.calendar import Period, StoreCalendar, rule_mask
from bakery.generate.catalog import Product, Store
from bakery.generate.events import EventEffects
from bakery.generate.params import stream
from bakery.generate.promotions import Promotions
from bakery.generate.weather import Weather

WINDOW_KEYS = ("start", "end", "easter", "after", "weekday", "days")


@dataclass(frozen=True)
class Offer:
    """Which products are on sale each day (seasonal windows, launches) and their seasonal profile."""

    offered: np.ndarray  # (products, days) bool
    profile: np.ndarray  # (products, days) multiplier: 1, or peak_factor on peak days


def offer_calendar(products: list[Product], period: Period) -> Offer:
    """Seasonal products sell only inside their windows; new products only from their launch."""
    offered = np.ones((len(products), period.days), dtype=bool)
    profile = np.ones((len(products), period.days))
    day_index = np.arange(period.days)
    for p in products:
        if p.season:
            offered[p.index] = False
            for window in p.season:
                inside = rule_mask({k: v for k, v in window.items() if k in WINDOW_KEYS}, period)
                offered[p.index] |= inside
                if "peak" in window:
                    peak = rule_mask(window["peak"], period) & inside
                    profile[p.index] = np.where(peak, float(window["peak_factor"]), profile[p.index])
        offered[p.index] &= day_index >= period.index(p.launched_on)
    return Offer(offered=offered, profile=profile)


def list_prices(cfg: dict[str, Any], products: list[Product], period: Period) -> np.ndarray:
    """List price in cents per product and day: +inflation every 1 January, rounded to 5 cents."""
    years = period.dates.year.to_numpy() - period.start.year
    growth = (1.0 + float(cfg["prices"]["inflation_per_year"])) ** years
    base = np.array([p.price for p in products])[:, None] * growth[None, :]
    return (np.round(base * 20) * 5).astype(np.int64)


def _category_table(cfg: dict[str, Any], products: list[Product]) -> tuple[list[str], np.ndarray]:
    names = list(cfg["categories"])
    try:
        idx = np.array([names.index(p.category) for p in products], dtype=np.int64)
    except ValueError:
        bad = sorted({p.category for p in products} - set(names))
        raise ValueError(f"generator.yml: products use categories {bad} missing from `categories`") from None
    return names, idx


def expected_demand(
    cfg: dict[str, Any],
    stores: list[Store],
    products: list[Product],
    period: Period,
    cal: StoreCalendar,
    effects: EventEffects,
    weather: Weather,
    promos: Promotions,
    offer: Offer,
) -> np.ndarray:
    """Mean demand (units, or kg) per store, product and day; zero when closed or not offered."""
    dates = period.dates
    days = period.days
    cats, cat_idx = _category_table(cfg, products)
    ccfg = [cfg["categories"][c] for c in cats]
    types = [cfg["store_types"][s.store_type] for s in stores]
    doy = dates.dayofyear.to_numpy()
    month = dates.month.to_numpy()

    wd_store = np.stack([np.asarray(t["weekday"])[cal.profile_day[i]] for i, t in enumerate(types)])
    wd_cat = np.stack([np.asarray(c["weekday"]) for c in ccfg])[cat_idx][:, cal.profile_day]  # (P, S, D)
    yearly = np.stack(
        [
            1 + c["yearly"]["amplitude"] * np.cos(2 * np.pi * (doy - c["yearly"]["peak_doy"]) / 365.25)
            for c in ccfg
        ]
    )
    months = np.stack([np.array([t.get("months", {}).get(int(m), 1.0) for m in month]) for t in types])
    rain = np.stack(
        [
            1 - t["rain"] * np.minimum(weather.precipitation[i, :days], 20.0) / 20.0
            for i, t in enumerate(types)
        ]
    )
    temp = weather.temperature[:, :days]
    temp_cat = np.stack(
        [
            np.exp(
                c["temperature"]["beta"]
                * np.clip(temp - c["temperature"]["ref"], c["temperature"]["low"], c["temperature"]["high"])
            )
            for c in ccfg
        ],
        axis=1,
    )  # (S, C, D)
    event_cat = np.stack([effects.category_day.get(c, np.ones(days)) for c in cats])
    years = np.arange(days) / 365.25
    trend = np.exp(float(cfg["demand"]["trend_per_year"]) * years)
    region = np.array([[p.region_factor.get(s.subdivision, 1.0) for p in products] for s in stores])
    scale = np.array([s.scale for s in stores])
    base = np.array([p.base for p in products])

    store_day = (
        scale[:, None] * wd_store * months * cal.day_factor * effects.store_day * rain * cal.open
    ) * trend[None, :]
    product_day = base[:, None] * yearly[cat_idx] * event_cat[cat_idx] * offer.profile * offer.offered
    lam = store_day[:, None, :] * product_day[None, :, :] * np.transpose(wd_cat, (1, 0, 2))
    lam *= temp_cat[:, cat_idx, :] * region[:, :, None]
    lam *= promos.lift(float(cfg["promotions"]["elasticity"]))
    return lam


def sample_demand(
    cfg: dict[str, Any], lam: np.ndarray, stores: list[Store], products: list[Product], seed: int
) -> np.ndarray:
    """True demand as integers (units, or grams for products sold by weight).

    Negative-binomial around the mean (gamma-Poisson mixture) with a log-normal shock shared by all
    products of a store-day; weight products draw a gamma-distributed total of pieces of ~weight_line_kg.
    """
    dcfg = cfg["demand"]
    k = float(dcfg["dispersion"])
    piece = float(dcfg["weight_line_kg"])
    by_weight = np.array([p.unit == "kg" for p in products])
    out = np.zeros(lam.shape, dtype=np.int64)
    for s in stores:
        rng = stream(seed, "demand", s.index)
        shock = rng.lognormal(0.0, float(dcfg["store_day_sigma"]), lam.shape[2])
        mu = lam[s.index] * shock[None, :] * rng.gamma(k, 1.0 / k, lam.shape[1:])
        counts = rng.poisson(mu)
        kilos = rng.gamma(np.maximum(mu / piece, 1e-12), piece)
        grams = np.where(mu > 0, np.round(kilos * 1000), 0).astype(np.int64)
        out[s.index] = np.where(by_weight[:, None], grams, counts)
    return out
