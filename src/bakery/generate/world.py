"""Simulate the chain: calendar, weather, promotions, demand and stock for every store, product and day."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from bakery.generate.calendar import Period, StoreCalendar, build_store_calendar, utc_offsets
from bakery.generate.catalog import Product, Store, build_products, build_stores
from bakery.generate.demand import Offer, expected_demand, list_prices, offer_calendar, sample_demand
from bakery.generate.events import event_effects, events_horizon
from bakery.generate.inventory import Stock, simulate_stock
from bakery.generate.promotions import Promotions, schedule_promotions
from bakery.generate.sources import DayTexts
from bakery.generate.weather import Weather, simulate_weather

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class World:
    """Everything simulated for one run; the writers turn it into files."""

    cfg: dict[str, Any]
    seed: int
    period: Period
    stores: list[Store]
    products: list[Product]
    calendar: StoreCalendar
    events_until: date
    weather_dates: pd.DatetimeIndex
    weather: Weather
    offer: Offer
    promotions: Promotions
    expected: np.ndarray  # (stores, products, days) mean demand
    demand: np.ndarray  # true demand, scaled integers
    stock: Stock
    prices: np.ndarray  # (products, days) list price in cents
    texts: DayTexts

    def pick_store(self, index: int) -> Store:
        """A store by configured index (negative counts from the end), clipped to the stores there are."""
        n = len(self.stores)
        return self.stores[max(-n, min(int(index), n - 1))]


def simulate(cfg: dict[str, Any], n_stores: int, n_products: int, start: date, end: date, seed: int) -> World:
    """Run the demand and stock simulation (vectorised over stores x products x days)."""
    period = Period(start, end)
    stores = build_stores(cfg, n_stores, seed)
    products = build_products(cfg, n_products, start, end)
    until = events_horizon(cfg, period)
    calendar = build_store_calendar(cfg, stores, period, until)
    weather_dates = pd.date_range(start, end + timedelta(days=int(cfg["weather"]["forecast_days"])), freq="D")
    weather = simulate_weather(cfg, stores, weather_dates, seed)
    offer = offer_calendar(products, period)
    promotions = schedule_promotions(cfg, stores, products, period, offer.offered, seed)
    effects = event_effects(cfg, stores, period)
    expected = expected_demand(cfg, stores, products, period, calendar, effects, weather, promotions, offer)
    demand = sample_demand(cfg, expected, stores, products, seed)
    stock = simulate_stock(cfg, expected, demand, products, stores, seed)
    log.info(
        "simulated %d stores x %d products x %d days (%.1f%% stock-out store-product-days)",
        len(stores),
        len(products),
        period.days,
        100 * stock.stockout.sum() / max(int((expected > 0).sum()), 1),
    )
    dates = period.dates
    texts = DayTexts(
        dates=list(dates.strftime("%Y-%m-%d")), offsets=[list(utc_offsets(s.timezone, dates)) for s in stores]
    )
    return World(
        cfg=cfg,
        seed=seed,
        period=period,
        stores=stores,
        products=products,
        calendar=calendar,
        events_until=until,
        weather_dates=weather_dates,
        weather=weather,
        offer=offer,
        promotions=promotions,
        expected=expected,
        demand=demand,
        stock=stock,
        prices=list_prices(cfg, products, period),
        texts=texts,
    )
