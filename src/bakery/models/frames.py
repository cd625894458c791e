"""Canonical long frame (unique_id, ds, y) from gold.features rows, and the regressor design per cutoff."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bakery.models.config import ModelConfig

KEYS = ["unique_id", "store_id", "product_id"]
LONG_COLUMNS = ["unique_id", "ds", "y", "store_id", "product_id", "censored"]
REQUIRED = ("store_id", "product_id", "date", "y")


@dataclass(frozen=True)
class Regressors:
    """The regressor columns present in a frame, by how their future values become known."""

    weather: tuple[str, ...] = ()
    planned: tuple[str, ...] = ()
    calendar: tuple[str, ...] = ()

    @property
    def all(self) -> list[str]:
        return [*self.weather, *self.planned, *self.calendar]


def _numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


def regressor_columns(frame: pd.DataFrame, cfg: ModelConfig) -> Regressors:
    """The configured weather / planned / calendar columns the frame has, numeric or boolean only
    (an `event_name` text column matching a planned prefix is not a regressor)."""
    reg = cfg.regressors
    cols = [c for c in frame.columns if _numeric(frame[c])]
    prefixes = tuple(reg.get("planned_prefixes") or ())
    planned = [c for c in cols if c in reg.get("planned", []) or (prefixes and c.startswith(prefixes))]
    return Regressors(
        weather=tuple(c for c in reg.get("weather", []) if c in cols),
        planned=tuple(planned),
        calendar=tuple(c for c in reg.get("calendar", []) if c in cols),
    )


def _as_float(series: pd.Series) -> np.ndarray:
    if series.dtype == np.float64:  # already plain floats (the common case after model_frame): no round trip
        return series.to_numpy(copy=True)
    return series.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)


def _check(features: pd.DataFrame) -> None:
    missing = [c for c in REQUIRED if c not in features.columns]
    if missing:
        raise ValueError(f"features frame lacks required column(s) {missing}; has {list(features.columns)}")
    negative = features.index[_as_float(features["y"]) < 0]
    if len(negative):
        row = features.loc[negative[0]]
        raise ValueError(
            f"column y must be >= 0: row {negative[0]} (store_id={row['store_id']}, "
            f"product_id={row['product_id']}, date={row['date']}) has y={row['y']}"
        )


def _base(features: pd.DataFrame, cfg: ModelConfig) -> pd.DataFrame:
    """All rows (closed and future days too) with unique_id, ds and float regressors."""
    _check(features)
    df = features.copy()
    df["store_id"] = df["store_id"].astype(str)
    df["product_id"] = df["product_id"].astype(str)
    if "unique_id" not in df.columns:
        df["unique_id"] = df["store_id"] + "/" + df["product_id"]
    df["ds"] = pd.to_datetime(df["date"]).dt.normalize()
    dup = df.duplicated(["unique_id", "ds"], keep=False)
    if dup.any():
        first = df.loc[dup, ["unique_id", "ds"]].iloc[0]
        raise ValueError(
            f"{int(dup.sum())} rows share a (unique_id, date) key, e.g. unique_id={first['unique_id']} "
            f"date={first['ds'].date()}; gold.features must hold one row per series and day"
        )
    for col in regressor_columns(df, cfg).all:
        df[col] = _as_float(df[col])
    return df.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)


def flag(df: pd.DataFrame, col: str, default: bool) -> pd.Series:
    """A boolean day flag (is_open, is_offered, stockout) with nulls, or the whole column when absent, as default."""
    if col not in df.columns:
        return pd.Series(default, index=df.index)
    if df[col].dtype == bool:  # numpy bool holds no nulls
        return df[col]
    return df[col].astype("boolean").fillna(default).astype(bool)


def to_long(features: pd.DataFrame, cfg: ModelConfig) -> pd.DataFrame:
    """Observed days only: closed / not-offered / null-y rows dropped, stock-out days marked censored."""
    return _long(_base(features, cfg), cfg)


def _long(df: pd.DataFrame, cfg: ModelConfig) -> pd.DataFrame:
    observed = df["y"].notna() & flag(df, "is_open", True) & flag(df, "is_offered", True)
    out = df.loc[observed].copy()
    out["y"] = _as_float(out["y"])
    out["censored"] = flag(out, "stockout", False)
    regs = regressor_columns(out, cfg).all
    return out[LONG_COLUMNS + regs].reset_index(drop=True)


def regressor_table(features: pd.DataFrame, cfg: ModelConfig) -> pd.DataFrame:
    """Every row (closed and future days too): keys, ds, store calendar attributes and regressors."""
    df = _base(features, cfg)
    attrs = [c for c in ("country", "subdivision") if c in df.columns]
    return df[[*KEYS, "ds", *attrs, *regressor_columns(df, cfg).all]]


@dataclass
class SeriesData:
    """One series: its observations, its regressors on every known date, and its store's calendar."""

    unique_id: str
    store_id: str
    product_id: str
    country: str
    subdivision: str | None
    obs: pd.DataFrame  # long frame of this series (observed days)
    regs: pd.DataFrame  # ds + regressor columns on every date present in the input (incl. closed/future)
    regressors: Regressors = field(default_factory=Regressors)


def _attr(df: pd.DataFrame, col: str) -> str | None:
    if col not in df.columns:
        return None
    vals = df[col].dropna()
    return str(vals.iloc[0]) if len(vals) else None


def series_data(pdf: pd.DataFrame, cfg: ModelConfig) -> SeriesData:
    """Split one series' gold.features rows into observations and regressors."""
    base = _base(pdf, cfg)
    uids = base["unique_id"].unique()
    if len(uids) != 1:
        raise ValueError(
            f"expected the rows of one series, got {len(uids)} unique_id values: {list(uids[:5])}"
        )
    regressors = regressor_columns(base, cfg)
    obs = _long(base, cfg)
    return SeriesData(
        unique_id=str(uids[0]),
        store_id=str(base["store_id"].iloc[0]),
        product_id=str(base["product_id"].iloc[0]),
        country=_attr(base, "country") or cfg.prophet["default_country"],
        subdivision=_attr(base, "subdivision"),
        obs=obs,
        regs=base[["ds", *regressors.all]].copy(),
        regressors=regressors,
    )


def climatology(regs: pd.DataFrame, cols: list[str] | tuple[str, ...], window: int) -> pd.DataFrame:
    """Day-of-year means (circular centred window) of the given columns; index 1..366."""
    out = pd.DataFrame(index=pd.RangeIndex(1, 367, name="doy"))
    cols = list(cols)
    if not cols:
        return out
    values = regs[cols].to_numpy(dtype="float64", na_value=np.nan)
    clim = day_of_year_means(regs["ds"].dt.dayofyear.to_numpy(), values.T, window)
    for j, col in enumerate(cols):
        out[col] = clim[j]
    return out


def day_of_year_means(dayofyear: np.ndarray, values: np.ndarray, window: int) -> np.ndarray:
    """climatology's arithmetic for many rows at once: values (rows x days, NaN = unknown) on the days whose
    day of year is given -> (rows x 366) circular centred-window means, each row's overall mean where its
    window saw nothing (NaN where the row saw nothing at all)."""
    rows = values.shape[0]
    seen = ~np.isnan(values)
    bins = (np.arange(rows)[:, None] * 366 + (np.asarray(dayofyear) - 1)[None, :])[seen]
    sums = np.bincount(bins, values[seen], minlength=rows * 366).reshape(rows, 366)
    counts = np.bincount(bins, minlength=rows * 366).reshape(rows, 366).astype("float64")
    both = np.hstack([sums.T, counts.T])  # one column per row's sums, then per row's counts
    half = window // 2
    if half:
        both = np.vstack([both[-half:], both, both[:half]])
    rolled = pd.DataFrame(both).rolling(window, center=True, min_periods=1).sum().to_numpy()
    if half:
        rolled = rolled[half:-half]
    roll_s, roll_c = rolled[:, :rows], rolled[:, rows:]
    with np.errstate(invalid="ignore", divide="ignore"):
        clim = np.where(roll_c > 0, roll_s / np.where(roll_c > 0, roll_c, 1), np.nan)
    means = np.array([row[ok].mean() if ok.any() else np.nan for row, ok in zip(values, seen, strict=True)])
    return np.where(np.isnan(clim), means[None, :], clim).T


@dataclass
class Design:
    """Training rows (ds <= cutoff) and the future days cutoff+1..cutoff+H, with filled regressors."""

    history: pd.DataFrame
    future: pd.DataFrame
    regressors: list[str]
    notes: list[str]


def design(
    sd: SeriesData,
    cutoff: pd.Timestamp,
    cfg: ModelConfig,
    *,
    weather_until: pd.Timestamp | None,
    mask_planned: bool,
) -> Design:
    """Regressors as known at the cutoff: weather observed up to weather_until then climatology (from
    data <= cutoff), planned values past the cutoff kept or zeroed, NaN filled safely."""
    cutoff = pd.Timestamp(cutoff)
    notes: list[str] = []
    past = sd.regs[sd.regs["ds"] <= cutoff]
    clim = climatology(past, sd.regressors.weather, cfg.climatology_window_days)
    history = sd.obs[sd.obs["ds"] <= cutoff].copy()
    days = pd.date_range(cutoff + pd.Timedelta(days=1), periods=cfg.max_horizon, freq="D")
    future = pd.DataFrame({"ds": days}).merge(sd.regs, on="ds", how="left")
    usable: list[str] = []
    hist_day = history["ds"].dt.dayofyear.to_numpy() - 1
    future_day = future["ds"].dt.dayofyear.to_numpy() - 1
    known_days = (future["ds"] <= weather_until).to_numpy() if weather_until is not None else None
    for col in sd.regressors.weather:
        if past[col].notna().sum() == 0:
            notes.append(f"regressor {col} dropped: no values up to the cutoff")
            continue
        by_day = clim[col].to_numpy()
        values = history[col].to_numpy(dtype="float64", na_value=np.nan)
        missing = np.isnan(values)
        if missing.any():
            notes.append(f"regressor {col}: {int(missing.sum())} missing value(s) filled by climatology")
        history[col] = np.where(missing, by_day[hist_day], values)
        ahead = future[col].to_numpy(dtype="float64", na_value=np.nan)
        if known_days is not None:
            ahead = np.where(known_days, ahead, np.nan)
        future[col] = np.where(np.isnan(ahead), by_day[future_day], ahead)
        usable.append(col)
    for col in (*sd.regressors.planned, *sd.regressors.calendar):
        n_nan = int(history[col].isna().sum())
        if n_nan:
            notes.append(f"regressor {col}: {n_nan} missing value(s) filled with 0")
        history[col] = history[col].fillna(0.0)
        if mask_planned and col in sd.regressors.planned:
            future[col] = 0.0
        n_unknown = int(future[col].isna().sum())
        if n_unknown:
            notes.append(f"regressor {col} unknown on {n_unknown} future day(s): assumed 0")
        future[col] = future[col].fillna(0.0)
        usable.append(col)
    cols = ["ds", *usable]
    return Design(history=history, future=future[cols], regressors=usable, notes=notes)


FLAG_DEFAULTS = {"is_open": True, "is_offered": True, "stockout": False}
ATTRIBUTES = ("unique_id", "country", "subdivision")


def model_columns(columns: list[str], cfg: ModelConfig) -> list[str]:
    """The gold.features columns the models read: keys, target, day flags, store calendar and every
    configured regressor present (a projection for Spark before rows reach pandas)."""
    reg = cfg.regressors
    named = {*reg.get("weather", []), *reg.get("planned", []), *reg.get("calendar", [])}
    prefixes = tuple(reg.get("planned_prefixes") or ())
    wanted = [*REQUIRED, *FLAG_DEFAULTS, *ATTRIBUTES]
    return [c for c in columns if c in wanted or c in named or (prefixes and c.startswith(prefixes))]


def model_frame(features: pd.DataFrame, cfg: ModelConfig) -> pd.DataFrame:
    """The model columns with stable types (date as datetime, y and regressors as float, flags as bool
    with their defaults), as the MLflow signature and the per-series functions expect them."""
    df = features[model_columns(list(features.columns), cfg)].copy()
    df["date"] = pd.to_datetime(df["date"]).dt.normalize()
    df["y"] = _as_float(df["y"])
    for col, default in FLAG_DEFAULTS.items():
        if col in df.columns:
            df[col] = flag(df, col, default)
    for col in ("store_id", "product_id", *ATTRIBUTES):
        if col in df.columns:
            values = df[col]
            df[col] = values.astype(str).astype(object).where(values.notna(), None)
    for col in regressor_columns(df, cfg).all:
        df[col] = _as_float(df[col])
    return df.reset_index(drop=True)
