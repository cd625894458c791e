"""Monitoring replayed night by night over a generated chain, with or without an injected shift: how often
the accuracy and drift rules cry wolf, and how many nights they take to see a real change.

Each night calls the same rule functions the nightly step does (bakery.monitoring.live_accuracy, .drift and
the alert builders of accuracy_io and drift_io), on the data as it stood that night. The served forecasts are
made nightly for the reported horizons by a stand-in for the champion (serve_forecasts); the backtest's
promise is that forecaster's pooled wMAPE per store and horizon on the 35 days before each weekly retraining,
as training measures its champion's. Pure pandas and numpy, no Spark.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from bakery.generate.calendar import Period, build_store_calendar
from bakery.generate.catalog import build_products, build_stores
from bakery.generate.demand import expected_demand, offer_calendar, sample_demand
from bakery.generate.events import event_effects, events_horizon
from bakery.generate.inventory import simulate_stock
from bakery.generate.promotions import schedule_promotions
from bakery.generate.weather import simulate_weather
from bakery.monitoring import drift
from bakery.monitoring import live_accuracy as la
from bakery.monitoring.accuracy_io import breach_alerts
from bakery.monitoring.alerts import Alert, Severity
from bakery.monitoring.drift_io import drift_alerts

log = logging.getLogger(__name__)

HORIZONS = (1, 7, 28)  # conf/models.yml `horizons`: the ones the backtest promises a figure for
TRAINING_DAYS = 35  # training scores its champion on the target days of the 35 days before its as-of date
RETRAIN_EVERY_DAYS = 7  # conf/base.yml `retrain_every_days`


@dataclass(frozen=True)
class WeekdayChange:
    """From `start` on, the store's demand on each weekday (Monday first) is multiplied by `factors`."""

    store: str
    start: date
    factors: tuple[float, ...]

    # The alerts that see it: a changed weekday shape or level, or worse forecasts (substrings of the alert kind).
    detected_by = ("weekday_shape", "sales_level", "accuracy.")

    @property
    def first_day(self) -> date:
        return self.start


@dataclass(frozen=True)
class HeatWave:
    """`days` days from `start` at the store `degrees` warmer; demand answers as the generator's model says."""

    store: str
    start: date
    days: int
    degrees: float

    # The alerts that see it: the temperature, or worse forecasts (substrings of the alert kind).
    detected_by = ("temperature", "accuracy.")

    @property
    def first_day(self) -> date:
        return self.start


@dataclass(frozen=True)
class ForecastBias:
    """The forecasts served for the store from the night `start` on are multiplied by `factor` (a broken
    model or feature); the first day they touch is the next one."""

    store: str
    start: date
    factor: float

    # The alerts that see it: worse forecasts (substrings of the alert kind).
    detected_by = ("accuracy.",)

    @property
    def first_day(self) -> date:
        return self.start + timedelta(days=1)


Shift = WeekdayChange | HeatWave | ForecastBias


@dataclass(frozen=True)
class Chain:
    """A generated chain in the shapes monitoring reads: gold.daily_sales and gold.features columns."""

    # store_id, product_id, date, quantity_sold, is_open, is_offered, stockout, and `expected`: the mean demand
    # of the unshifted chain (what a model that learned the chain well would expect)
    sales: pd.DataFrame
    features: pd.DataFrame  # store_id, product_id, date, y, is_open, promo, temperature, precipitation


def _store_index(stores: list, store_id: str) -> int:
    for s in stores:
        if s.store_id == store_id:
            return s.index
    raise ValueError(f"shift names store {store_id!r}, which is not among {[s.store_id for s in stores]}")


def simulate_chain(
    cfg: dict[str, Any], stores: int, products: int, start: date, end: date, seed: int, shifts: Sequence = ()
) -> Chain:
    """The generator's simulation (bakery.generate.world.simulate, step by step) with the demand and weather
    shifts applied before demand is drawn. Stock is planned on the unshifted demand: the bakery does not know
    of the change either, so a boosted day sells out as it would."""
    period = Period(start, end)
    store_list = build_stores(cfg, stores, seed)
    product_list = build_products(cfg, products, start, end)
    calendar = build_store_calendar(cfg, store_list, period, events_horizon(cfg, period))
    weather_dates = pd.date_range(start, end + timedelta(days=int(cfg["weather"]["forecast_days"])), freq="D")
    weather = simulate_weather(cfg, store_list, weather_dates, seed)
    offer = offer_calendar(product_list, period)
    promotions = schedule_promotions(cfg, store_list, product_list, period, offer.offered, seed)
    effects = event_effects(cfg, store_list, period)

    def lam_for(w):
        return expected_demand(cfg, store_list, product_list, period, calendar, effects, w, promotions, offer)

    planned = lam_for(weather)
    temperature = weather.temperature.copy()
    for shift in shifts:
        if isinstance(shift, HeatWave):
            i, a = _store_index(store_list, shift.store), period.index(shift.start)
            temperature[i, a : a + shift.days] += shift.degrees
    shifted_weather = replace(weather, temperature=temperature)
    lam = lam_for(shifted_weather) if any(isinstance(s, HeatWave) for s in shifts) else planned.copy()
    dow = period.dates.dayofweek.to_numpy()
    for shift in shifts:
        if isinstance(shift, WeekdayChange):
            if len(shift.factors) != 7:
                raise ValueError(f"WeekdayChange.factors needs 7 values (Monday first), got {shift.factors}")
            i, a = _store_index(store_list, shift.store), period.index(shift.start)
            lam[i, :, a:] *= np.asarray(shift.factors)[dow[a:]][None, :]
    demand = sample_demand(cfg, lam, store_list, product_list, seed)
    stock = simulate_stock(cfg, planned, demand, product_list, store_list, seed)
    frames = _frames(
        store_list, product_list, period, calendar, offer, promotions, shifted_weather, stock, planned
    )
    return Chain(*frames)


def _frames(stores, products, period, calendar, offer, promotions, weather, stock, planned) -> tuple:
    n_s, n_p, n_d = stock.sold.shape
    s, p, d = (a.ravel() for a in np.meshgrid(np.arange(n_s), np.arange(n_p), np.arange(n_d), indexing="ij"))
    scale = np.array([x.scale for x in products], dtype=float)
    dates = period.dates.to_numpy()
    sales = pd.DataFrame(
        {
            "store_id": np.array([x.store_id for x in stores], dtype=object)[s],
            "product_id": np.array([x.product_id for x in products], dtype=object)[p],
            "date": dates[d],
            "quantity_sold": stock.sold[s, p, d] / scale[p],
            "is_open": calendar.open[s, d],
            "is_offered": offer.offered[p, d],
            "stockout": stock.stockout[s, p, d],
            "expected": planned[s, p, d] / scale[p],
        }
    )
    features = sales.loc[sales["is_offered"], ["store_id", "product_id", "date", "is_open"]].assign(
        y=sales.loc[sales["is_offered"], "quantity_sold"],
        promo=(promotions.discount[s, p, d] > 0)[sales["is_offered"].to_numpy()],
        temperature=weather.temperature[s, d][sales["is_offered"].to_numpy()],
        precipitation=weather.precipitation[s, d][sales["is_offered"].to_numpy()],
    )
    return sales, features.reset_index(drop=True)


FORECASTERS = ("model", "naive")


def serve_forecasts(
    sales: pd.DataFrame,
    first: date,
    last: date,
    shifts: Sequence = (),
    horizons: Sequence[int] = HORIZONS,
    forecaster: str = "model",
    error_sigma: float = 0.10,
    seed: int = 0,
) -> pd.DataFrame:
    """gold.forecasts rows (role champion) made each night first..last for night + h, times any ForecastBias
    (`yhat_backtest` keeps the value before it: what the training's backtest saw).

    `model`: the unshifted chain's mean demand times a log-normal error of `error_sigma` per forecast, a model
    that learned the seasons, holidays, weather and promotions but not a change after its training;
    `naive`: seasonal naive on the sales known that night (y(d - 7*ceil(h/7)) is never after the night)."""
    if forecaster not in FORECASTERS:
        raise ValueError(f"forecaster must be one of {FORECASTERS}, got {forecaster!r}")
    keys = sales[["store_id", "product_id", "date", "expected"]].assign(date=pd.to_datetime(sales["date"]))
    frames = []
    for h in horizons:
        as_of = keys["date"] - pd.Timedelta(days=h)
        keep = (as_of >= pd.Timestamp(first)) & (as_of <= pd.Timestamp(last))
        frames.append(keys[keep].assign(horizon=h, as_of=as_of[keep]))
    fc = pd.concat(frames, ignore_index=True)
    if forecaster == "naive":
        fc = la.with_naive(fc, la.actuals(sales)).rename(columns={"naive": "yhat"}).dropna(subset=["yhat"])
    else:
        rng = np.random.default_rng(seed)
        fc["yhat"] = fc["expected"] * rng.lognormal(-(error_sigma**2) / 2, error_sigma, len(fc))
    fc = fc.drop(columns="expected").assign(yhat_backtest=fc["yhat"])
    for shift in shifts:
        if isinstance(shift, ForecastBias):
            hit = (fc["store_id"] == shift.store) & (fc["as_of"] >= pd.Timestamp(shift.start))
            fc.loc[hit, "yhat"] *= shift.factor
    return fc.assign(role="champion", model_version="1").reset_index(drop=True)


def expectation(scored: pd.DataFrame, trained_on: date) -> pd.DataFrame:
    """What a training on `trained_on` promises: the forecaster's pooled wMAPE per horizon, for the chain
    (store_id None) and each store, on the target days of the TRAINING_DAYS before it."""
    end = pd.Timestamp(trained_on)
    part = scored[(scored["date"] > end - pd.Timedelta(days=TRAINING_DAYS)) & (scored["date"] <= end)]
    part = part.assign(err=(part["yhat"] - part["y"]).abs(), den=part["y"].abs())
    rows = []
    for keys in (["horizon"], ["horizon", "store_id"]):
        g = part.groupby(keys, as_index=False)[["err", "den"]].sum()
        g = g[g["den"] > 0].assign(wmape=lambda x: 100 * x["err"] / x["den"])
        if "store_id" not in g:
            g["store_id"] = None
        rows.append(g[["horizon", "store_id", "wmape"]])
    return pd.concat(rows, ignore_index=True)


@dataclass
class Night:
    evaluated_on: date
    alerts: list[Alert]
    seconds: float


@dataclass
class Replay:
    nights: list[Night] = field(default_factory=list)

    def alerts(self) -> list[tuple[date, Alert]]:
        return [(n.evaluated_on, a) for n in self.nights for a in n.alerts]

    def counts(self) -> dict[str, int]:
        """Alerts raised, by severity and kind ("WARNING drift.temperature": 3)."""
        out: dict[str, int] = {}
        for _, a in self.alerts():
            key = f"{a.severity.name} {a.kind}"
            out[key] = out.get(key, 0) + 1
        return dict(sorted(out.items()))

    def severities(self) -> dict[str, int]:
        return {s.name: sum(a.severity == s for _, a in self.alerts()) for s in Severity}

    def first_alert(self, store: str, since: date, kinds: Sequence[str]) -> date | None:
        """The first night from `since` on with an alert naming the store whose kind contains one of `kinds`."""
        for night, a in self.alerts():
            if night >= since and store in a.stores and any(k in a.kind for k in kinds):
                return night
        return None


def replay(
    chain: Chain,
    forecasts: pd.DataFrame,
    nights: Sequence[date],
    accuracy_rule: la.AccuracyRule,
    drift_rule: drift.DriftRule,
) -> Replay:
    """Run the nightly rules for each night in order, each on what was known that night; the accuracy
    history of earlier nights is carried as gold.live_accuracy would hold it. The promise is refreshed every
    RETRAIN_EVERY_DAYS from the unbiased forecaster (a serving bias is not in the training's backtest)."""
    sales = chain.sales.assign(date=pd.to_datetime(chain.sales["date"]))
    days = drift.store_days(chain.features)
    scored_all = la.score_served(forecasts, sales)
    honest = scored_all.assign(yhat=scored_all["yhat_backtest"])  # what the training's backtest measured
    back = pd.Timedelta(days=accuracy_rule.window_days + 7 * (4 + la.NAIVE_MAX_STEPS))
    out, history, promised = Replay(), pd.DataFrame(), None
    for k, night in enumerate(nights):
        end = pd.Timestamp(night)
        if promised is None or k % RETRAIN_EVERY_DAYS == 0:  # training's work, not timed
            promised = expectation(honest, night)
        t0 = time.perf_counter()
        fc = forecasts[(forecasts["date"] > end - pd.Timedelta(days=accuracy_rule.window_days))]
        fc = fc[fc["date"] <= end]
        known = sales[(sales["date"] > end - back) & (sales["date"] <= end)]
        summary = la.summarise(la.score_served(fc, known), night, accuracy_rule)
        summary = la.with_expectation(summary, promised, accuracy_rule)
        history = pd.concat([history, summary], ignore_index=True)
        history = history[history["evaluated_on"] > night - timedelta(days=accuracy_rule.nights)]
        alerts = breach_alerts(la.sustained_breaches(history, night, accuracy_rule), accuracy_rule)
        found = drift.compare(days[days["date"] <= end], night, drift_rule)
        alerts += drift_alerts(found) if not found.empty else []
        out.nights.append(Night(night, alerts, time.perf_counter() - t0))
    return out
