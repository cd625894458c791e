"""Days a store is expected to be closed within the forecast horizon, from its own history up to the as-of date.

The forecasts for those days are 0 (model `closed`, the reason in the explanation), so a bake plan never asks
for rolls on a Sunday the store has not opened on for two months, or on a holiday it closed for last time.
- Weekday: the store was closed on each of its last `weeks` occurrences of that weekday that were not
  holidays (at least `min_weeks` of them), and was not open on that weekday within a week of the day a year
  earlier (a store shut on Sundays in the quiet months only opens on them again in the season). Weeks the
  whole store was shut (a refit, a long closure) are left out while it has opened in the last `weeks` weeks:
  a store that reopens takes up its usual weekdays at once; one shut for all of them stays closed.
- Holiday (the store's legal holidays, as in the models' calendar; not the bakery days such as Christmas Eve,
  when a store closed one year is as often open the next): the store was closed on
  the holiday's latest earlier occurrence in its history that fell on a weekday it opens on (Christmas Eve on
  a Sunday says nothing about Christmas Eve on a Monday), and that was not inside a longer shutdown (the store
  was open on some day of the week before it). A holiday it has not met so follows the weekday rule.
A store is open on a day with any observation (gold: `is_open`). Pure pandas; conf/models.yml `closures`.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from bakery.models.calendar import holiday_table
from bakery.models.config import ModelConfig
from bakery.models.offering import NOT_OFFERED, expected_not_offered
from bakery.models.output import VALUE_COLUMNS

CLOSED = "closed"
ZERO_COLUMNS = ["store_id", "product_id", "ds", "model", "reason"]
DEFAULTS = {"enabled": True, "weeks": 8, "min_weeks": 4, "holidays": True}


def _settings(cfg: ModelConfig) -> dict:
    return {**DEFAULTS, **(cfg.closures or {})}


def _store_days(features: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """store_id, ds, is_open (any series of the store open that day), days up to as_of."""
    days = features[features["date"] <= as_of]
    is_open = days["is_open"] if "is_open" in days.columns else pd.Series(True, index=days.index)
    return (
        days.assign(is_open=is_open.fillna(True).astype(bool))
        .groupby(["store_id", "date"], sort=True)["is_open"]
        .any()
        .reset_index()
        .rename(columns={"date": "ds"})
    )


def _holidays(features: pd.DataFrame, store: str, years: range, cfg: ModelConfig) -> pd.DataFrame:
    rows = features[features["store_id"] == store]
    country = next((c for c in rows.get("country", pd.Series(dtype=object)).dropna()), None)
    if not country:
        country = cfg.prophet.get("default_country")
    if not country:
        return pd.DataFrame(columns=["ds", "holiday"])
    subdivision = next((s for s in rows.get("subdivision", pd.Series(dtype=object)).dropna()), None)
    return holiday_table(str(country), subdivision, years, cfg)


def _weekday_reasons(
    history: pd.DataFrame, holiday_days: set[pd.Timestamp], weeks: int, min_weeks: int
) -> dict[int, str]:
    """weekday -> reason, for the weekdays the store was closed on each of its last `weeks` non-holidays."""
    usual = history[~history["ds"].isin(holiday_days)]
    week = usual["ds"] - pd.to_timedelta(usual["ds"].dt.weekday, unit="D")
    open_weeks = set(week[usual["is_open"].to_numpy()])
    recent = set(week.drop_duplicates().tail(weeks))
    if open_weeks & recent:  # weeks the whole store was shut (a long closure) say nothing about its weekdays
        usual = usual[week.isin(open_weeks).to_numpy()]
    out = {}
    for weekday, days in usual.groupby(usual["ds"].dt.weekday):
        last = days.tail(weeks)
        if len(last) >= min_weeks and not last["is_open"].any():
            out[int(weekday)] = f"closed on each of the last {len(last)} {last['ds'].iloc[-1]:%A}s"
    return out


def _open_a_year_before(day: pd.Timestamp, state: dict[pd.Timestamp, bool], names: dict) -> bool:
    """Open on the same weekday within a week of this day a year earlier (a store that shuts on Sundays only
    in the quiet months opens on them again in the season)."""
    around = (day - pd.Timedelta(days=364 + k) for k in (-7, 0, 7))
    return any(state.get(d, False) for d in around if d not in names)


def _open_the_week_before(day: pd.Timestamp, state: dict[pd.Timestamp, bool]) -> bool:
    """Open on some day of the week before: a holiday that fell within a longer shutdown (a refit, a month shut)
    says nothing about the holiday itself."""
    return any(state.get(day - pd.Timedelta(days=k), False) for k in range(1, 8))


def expected_closures(features: pd.DataFrame, cfg: ModelConfig, as_of: date) -> pd.DataFrame:
    """store_id, ds, reason: the days as_of+1..as_of+max_horizon each store is expected to be closed.

    features: gold.features rows (model_frame) of any number of stores, with history up to as_of."""
    conf = _settings(cfg)
    empty = pd.DataFrame(
        {
            "store_id": pd.Series(dtype=object),
            "ds": pd.Series(dtype="datetime64[ns]"),
            "reason": pd.Series(dtype=object),
        }
    )
    if not conf["enabled"] or features.empty:
        return empty
    as_of = pd.Timestamp(as_of)
    future = pd.date_range(as_of + pd.Timedelta(days=1), periods=cfg.max_horizon, freq="D")
    bakery_days = set((cfg.prophet.get("extra_days") or {}).values())
    out = []
    for store, history in _store_days(features, as_of).groupby("store_id", sort=True):
        years = range(history["ds"].min().year, future[-1].year + 1)
        hol = (
            _holidays(features, store, years, cfg)
            if conf["holidays"]
            else pd.DataFrame(columns=["ds", "holiday"])
        )
        names = dict(zip(pd.to_datetime(hol["ds"]), hol["holiday"], strict=True))
        legal = {d: n for d, n in names.items() if n not in bakery_days}
        weekdays = _weekday_reasons(history, set(names), int(conf["weeks"]), int(conf["min_weeks"]))
        state = dict(zip(history["ds"], history["is_open"], strict=True))
        for day in future:
            name = legal.get(day)
            # Occurrences on a weekday the store closes anyway say nothing about the holiday itself.
            earlier = (
                [
                    d
                    for d, n in legal.items()
                    if n == name
                    and d <= as_of
                    and d in state
                    and d.weekday() not in weekdays
                    and _open_the_week_before(d, state)
                ]
                if name
                else []
            )
            if earlier:
                last = max(earlier)
                if not state[last]:
                    out.append((store, day, f"closed on {name} {last:%Y-%m-%d}"))
            elif day.weekday() in weekdays and not _open_a_year_before(day, state, names):
                out.append((store, day, weekdays[day.weekday()]))
    return pd.DataFrame(out, columns=list(empty.columns)) if out else empty


def expected_zero_days(features: pd.DataFrame, cfg: ModelConfig, as_of: date) -> pd.DataFrame:
    """store_id, product_id, ds, model, reason: the days ahead a store is expected closed (product_id None: every
    product; model `closed`) and those a series is expected off sale (bakery.models.offering; `not_offered`)."""
    shut = expected_closures(features, cfg, as_of).assign(product_id=None, model=CLOSED)
    off = expected_not_offered(features, cfg, as_of).assign(model=NOT_OFFERED)
    return pd.concat([shut[ZERO_COLUMNS], off[ZERO_COLUMNS]], ignore_index=True)


def _zero_hits(rows: pd.DataFrame, zero: pd.DataFrame, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per row of `rows` (store_id, product_id, ds and the `extra` keys): the model and reason of its zero day,
    null where it has none. A store's closure takes precedence over its products being off sale."""
    keys = pd.DataFrame(
        {
            "store_id": rows["store_id"].astype(str).to_numpy(),
            "product_id": rows["product_id"].astype(str).to_numpy(),
            "ds": pd.to_datetime(rows["ds"]).to_numpy(),
            **{k: pd.to_datetime(rows[k]).to_numpy() for k in extra},
        }
    )
    hit = pd.DataFrame({"model": [None] * len(keys), "reason": [None] * len(keys)}, dtype=object)
    store_wide = zero["product_id"].isna()
    for part, on in (
        (zero[~store_wide], ["store_id", "product_id", "ds", *extra]),
        (zero[store_wide], ["store_id", "ds", *extra]),
    ):  # the closure last: it wins
        if part.empty:
            continue
        found = keys.merge(part.drop_duplicates(on)[[*on, "model", "reason"]], on=on, how="left")
        mask = found["model"].notna().to_numpy()
        hit.loc[mask, ["model", "reason"]] = found.loc[mask, ["model", "reason"]].to_numpy()
    return hit


def close_days(rows: pd.DataFrame, zero: pd.DataFrame) -> pd.DataFrame:
    """FORECAST_SCHEMA rows with the expected zero days (expected_zero_days) set to 0, their model (`closed`,
    `not_offered`) and the reason in `notes`."""
    if rows.empty or zero.empty:
        return rows
    hit = _zero_hits(rows, zero)
    mask = hit["model"].notna().to_numpy()
    if not mask.any():
        return rows
    out = rows.copy()
    out.loc[mask, VALUE_COLUMNS] = 0.0
    out.loc[mask, "regressors"] = "{}"
    out.loc[mask, "model"] = hit.loc[mask, "model"].to_numpy()
    out.loc[mask, "notes"] = hit.loc[mask, "reason"].to_numpy()
    return out


def close_backtest(rows: pd.DataFrame, features: pd.DataFrame, cfg: ModelConfig, column: str) -> pd.DataFrame:
    """Backtest rows (store_id, product_id, cutoff, ds, ...) with `column` (and its bounds) set to 0 on the days
    expected_zero_days, run at each cutoff on the data up to it, marks: the backtest scores what the pipeline would
    have served. Only observed days are scored, so each such row is a day the rules got wrong."""
    if rows.empty or column not in rows.columns:
        return rows
    dates = pd.to_datetime(features["date"])
    marked = [
        expected_zero_days(features[dates <= c], cfg, pd.Timestamp(c).date()).assign(cutoff=pd.Timestamp(c))
        for c in sorted(pd.to_datetime(rows["cutoff"]).unique())
    ]
    marked = pd.concat(marked, ignore_index=True)
    if marked.empty:
        return rows
    hit = _zero_hits(rows, marked, extra=("cutoff",))["model"].notna().to_numpy()
    if not hit.any():
        return rows
    out = rows.copy()
    out.loc[hit, [c for c in (column, f"{column}_lower", f"{column}_upper") if c in out.columns]] = 0.0
    return out
