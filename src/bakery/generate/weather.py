"""Daily weather per store from its city's climate: temperature, rain, humidity, wind and WMO codes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bakery.generate.catalog import Store
from bakery.generate.params import stream

WEATHER_COLUMNS = [
    "date",
    "store_id",
    "temperature",
    "precipitation",
    "humidity",
    "wind_speed",
    "weather_condition_code",
]


@dataclass(frozen=True)
class Weather:
    """Arrays of shape (stores, days), rounded as written to the files."""

    temperature: np.ndarray
    precipitation: np.ndarray
    humidity: np.ndarray
    wind_speed: np.ndarray
    code: np.ndarray


def _ar1(noise: np.ndarray, phi: float) -> np.ndarray:
    out = np.empty_like(noise)
    level = 0.0
    for i, e in enumerate(noise):
        level = phi * level + e
        out[i] = level
    return out


def _rain_days(u: np.ndarray, prob: np.ndarray, persistence: float) -> np.ndarray:
    wet = np.zeros(u.shape, dtype=bool)
    previous = False
    for i in range(u.size):
        previous = u[i] < min(prob[i] + (persistence if previous else 0.0), 0.95)
        wet[i] = previous
    return wet


def wmo_code(temp: np.ndarray, rain: np.ndarray, humidity: np.ndarray, cloud: np.ndarray) -> np.ndarray:
    """WMO weather interpretation code of the day (0 clear .. 3 overcast, 45 fog, 51-65 rain, 71-75 snow, 95 storm)."""
    dry = np.select([humidity >= 93, cloud < 0.55, cloud < 0.68, cloud < 0.8], [45, 0, 1, 2], 3)
    liquid = np.select([rain < 1.0, rain < 4.0, rain < 12.0], [51, 61, 63], 65)
    liquid = np.where((rain >= 10.0) & (temp >= 22.0), 95, liquid)
    snow = np.select([rain < 2.0, rain < 8.0], [71, 73], 75)
    return np.where(rain <= 0.0, dry, np.where(temp <= 1.0, snow, liquid)).astype(np.int64)


def simulate_weather(cfg: dict[str, Any], stores: list[Store], dates: pd.DatetimeIndex, seed: int) -> Weather:
    """Seasonal temperature with persistent anomalies, Markov rain days, humidity and wind per store."""
    wcfg = cfg["weather"]
    doy = dates.dayofyear.to_numpy()
    winter = (1 + np.cos(2 * np.pi * (doy - 15) / 365.25)) / 2
    shape = (len(stores), len(dates))
    out = {k: np.zeros(shape) for k in ("temperature", "precipitation", "humidity", "wind_speed")}
    code = np.zeros(shape, dtype=np.int64)
    for s in stores:
        c = s.climate
        rng = stream(seed, "weather", s.index)
        seasonal = c["temp_mean"] + c["temp_amplitude"] * np.cos(
            2 * np.pi * (doy - c["temp_peak_doy"]) / 365.25
        )
        anomaly = _ar1(rng.normal(0, wcfg["temp_noise"], doy.size), wcfg["temp_persistence"])
        wet = _rain_days(
            rng.random(doy.size),
            c["rain_summer"] + (c["rain_winter"] - c["rain_summer"]) * winter,
            wcfg["rain_persistence"],
        )
        amount = rng.gamma(0.8, c["rain_mm"] / 0.8, doy.size) + 0.1
        rain = np.round(np.where(wet, amount, 0.0), 1)
        temp = np.round(seasonal + anomaly - wcfg["rain_cooling"] * wet, 1)
        humidity = np.round(
            np.clip(c["humidity"] + 14 * wet - 1.2 * (temp - seasonal) + rng.normal(0, 6, doy.size), 15, 100)
        )
        wind = np.round(rng.gamma(3.0, c["wind"] / 3.0, doy.size) + 4.0 * wet, 1)
        cloud = humidity / 100 + rng.normal(0, 0.15, doy.size)
        out["temperature"][s.index], out["precipitation"][s.index] = temp, rain
        out["humidity"][s.index], out["wind_speed"][s.index] = humidity, wind
        code[s.index] = wmo_code(temp, rain, humidity, cloud)
    return Weather(code=code, **out)


def weather_frame(weather: Weather, store: Store, dates: pd.DatetimeIndex) -> pd.DataFrame:
    """The `weather` source rows of one store."""
    i = store.index
    return pd.DataFrame(
        {
            "date": dates.strftime("%Y-%m-%d"),
            "store_id": store.store_id,
            "temperature": weather.temperature[i],
            "precipitation": weather.precipitation[i],
            "humidity": weather.humidity[i],
            "wind_speed": weather.wind_speed[i],
            "weather_condition_code": weather.code[i],
        },
        columns=WEATHER_COLUMNS,
    )
