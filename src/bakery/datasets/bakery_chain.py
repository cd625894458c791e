"""The real ddop bakery chain (35 German stores x 3 products, daily, 2016-01-02..2019-04-30) as landing files.

The project ships a compact copy of the ddop package's data (bakery/datasets/data/, package data of the wheel, BSD-3-Clause). This
module reads it (or the original ddop CSV pair), decides which days were closed or not offered, and
writes the stores, products, sales, weather and events landing files that `bakery demo --dataset
bakery-chain` ingests.

The data's traps: the `weekday` column is off by one day, so only `date` is used; a demand of 0 on a
Sunday or a public holiday, or for all three products of a store, is a closed day (the two mostly-closed
stores, 5 and 22, are closed that way); a product at 0 for 7+ days in a row while its store sells is not
offered. Closed and not-offered days get no sales row (docs/contract.md: no row = no observation); every other
zero is a real zero-sales row. Fractional demand (42 values such as 1155.5) is kept as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from bakery.ingest.landing import write_atomically

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).with_name("data")  # package data: installed with the wheel
COMPACT = DATA_DIR / "bakery_chain.parquet"
FILE_PREFIX = "bakery_chain"
COUNTRY, SUBDIVISION, TIMEZONE = "DE", "DE-BY", "Europe/Berlin"
# ddop product number -> (name, category); the names come from ddop 0.6.5's single-store "bakery" data set.
PRODUCTS = {101: ("Roll", "rolls"), 109: ("Seeded roll", "rolls"), 110: ("Pretzel", "pretzels")}
SCHOOL_HOLIDAY = ("Schulferien", "school_holiday")
# The compact copy: the ddop columns minus weekday, month and year (all from `date`; weekday is off by one).
COLUMNS = {
    "date": "datetime64[ns]",
    "store": "int16",
    "product": "int16",
    "demand": "float64",
    "rain": "float64",
    "temperature": "float64",
    "is_schoolholiday": "int8",
    "is_holiday": "int8",
    "is_holiday_next2days": "int8",
    "promotion_currentweek": "int8",
    "promotion_lastweek": "int8",
}
SERIES = ["store", "product"]


# ---- the data -------------------------------------------------------------------------------------
def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """The compact layout: COLUMNS in order and type, one row per store x product x date, sorted."""
    out = frame[list(COLUMNS)].copy()
    out["date"] = pd.to_datetime(out["date"])
    out = out.astype(COLUMNS)
    return out.sort_values([*SERIES, "date"]).reset_index(drop=True)


def read_ddop(folder: Path) -> pd.DataFrame:
    """ddop's bakery_data.csv + bakery_target.csv (row-aligned) in the compact layout."""
    data = pd.read_csv(folder / "bakery_data.csv")
    data["demand"] = pd.read_csv(folder / "bakery_target.csv")["demand"].to_numpy()
    return _typed(data)


def read_compact(path: Path = COMPACT) -> pd.DataFrame:
    """The copy shipped in bakery/datasets/data/, in the compact layout."""
    return _typed(pd.read_parquet(path))


def write_compact(source: Path, path: Path = COMPACT) -> Path:
    """Rebuild the shipped copy from the ddop CSV pair (Parquet, zstd: about 220 KB)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = read_ddop(Path(source))
    table = pa.Table.from_pandas(frame.assign(date=frame["date"].dt.date), preserve_index=False)
    return write_atomically(
        Path(path), lambda tmp: pq.write_table(table, tmp, compression="zstd", compression_level=19)
    )


def day_status(data: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(closed, not_offered) per row of the compact layout (sorted by store, product, date).

    A 0 on a Sunday or a holiday, or a 0 for all products of the store that day, is a closed day; a
    product at 0 for 7+ days in a row on days its store is open is not offered. Other zeros are sales of 0.
    """
    zero = data["demand"] == 0
    store_closed = zero.groupby([data["store"], data["date"]]).transform("all")
    series = [data["store"], data["product"]]
    run_id = (zero != zero.groupby(series).shift()).groupby(series).cumsum()
    run_len = zero.groupby([*series, run_id]).transform("size")
    closed = zero & (store_closed | (data["date"].dt.dayofweek == 6) | (data["is_holiday"] == 1))
    not_offered = zero & ~closed & (run_len >= 7)
    return closed, not_offered


def chain_features(data: pd.DataFrame) -> pd.DataFrame:
    """The compact layout as a gold.features-shaped frame (y is NaN on closed and not-offered days)."""
    closed, not_offered = day_status(data)
    out = pd.DataFrame(
        {
            "store_id": data["store"].astype(str),
            "product_id": data["product"].astype(str),
            "date": data["date"],
            "y": data["demand"].where(~(closed | not_offered)),
            "is_open": ~closed,
            "is_offered": ~not_offered,
            "stockout": False,
            "temperature": data["temperature"],
            "precipitation": data["rain"],
            "promo": data["promotion_currentweek"].astype(float),
            "promo_lastweek": data["promotion_lastweek"].astype(float),
            "school_holiday": data["is_schoolholiday"].astype(float),
            # Epiphany, Corpus Christi, All Saints and Assumption closures match Bavaria.
            "country": COUNTRY,
            "subdivision": SUBDIVISION,
        }
    )
    out["unique_id"] = out["store_id"] + "/" + out["product_id"]
    return out


# ---- landing files --------------------------------------------------------------------------------
def _number_text(values: pd.Series) -> pd.Series:
    """Shortest exact decimal text: 254.0 -> '254', 56.063 -> '56.063'."""
    return values.map(lambda v: np.format_float_positional(v, trim="-"))


def _iso(dates: pd.Series) -> pd.Series:
    return dates.dt.strftime("%Y-%m-%d")


def _runs(flag: pd.Series, keys: pd.Series, dates: pd.Series) -> pd.Series:
    """An id per run of consecutive flagged days within each key (rows sorted by key, date)."""
    starts = flag & ~(flag.groupby(keys).shift(fill_value=False) & (dates.diff().dt.days == 1))
    return starts.cumsum().where(flag)


def _regions(data: pd.DataFrame) -> dict[int, str]:
    """Stores that share a weather series share a region (the data names no towns): Region A, B, ..."""
    days = data.drop_duplicates(["store", "date"])
    signature = days.groupby("store")[["temperature", "rain"]].agg(lambda s: hash(tuple(s)))
    first_store = signature.reset_index().groupby(["temperature", "rain"])["store"].transform("min")
    letters = {s: chr(ord("A") + i) for i, s in enumerate(sorted(first_store.unique()))}
    return {
        int(store): f"Region {letters[first]}"
        for store, first in zip(signature.index, first_store, strict=True)
    }


def stores_frame(data: pd.DataFrame) -> pd.DataFrame:
    region = _regions(data)
    ids = sorted(region)
    return pd.DataFrame(
        {
            "store_id": [str(s) for s in ids],
            "name": [f"Filiale {s:02d}" for s in ids],
            "city": [region[s] for s in ids],
            "country": COUNTRY,
            "subdivision": SUBDIVISION,
            "timezone": TIMEZONE,
        }
    )


def products_frame(data: pd.DataFrame) -> pd.DataFrame:
    ids = sorted(int(p) for p in data["product"].unique())
    return pd.DataFrame(
        {
            "product_id": [str(p) for p in ids],
            "name": [PRODUCTS[p][0] for p in ids],
            "category": [PRODUCTS[p][1] for p in ids],
        }
    )


def _promotion_ids(data: pd.DataFrame) -> pd.Series:
    """PROMO-<product>-<first day>: the ddop promotion weeks are chain-wide, per product."""
    days = data.drop_duplicates(["product", "date"]).sort_values(["product", "date"])
    run = _runs(days["promotion_currentweek"] == 1, days["product"], days["date"])
    first = days["date"].groupby(run).transform("min")
    ids = ("PROMO-" + days["product"].astype(str) + "-" + _iso(first)).where(run.notna())
    lookup = pd.Series(ids.to_numpy(), index=pd.MultiIndex.from_frame(days[["product", "date"]]))
    return pd.Series(
        lookup.reindex(pd.MultiIndex.from_frame(data[["product", "date"]])).to_numpy(), index=data.index
    )


def sales_frame(data: pd.DataFrame) -> pd.DataFrame:
    """Daily totals of open, offered days only; a promotion week's rows carry its promotion_id."""
    closed, not_offered = day_status(data)
    keep = ~(closed | not_offered)
    rows = data[keep]
    return pd.DataFrame(
        {
            "date": _iso(rows["date"]),
            "store_id": rows["store"].astype(str),
            "product_id": rows["product"].astype(str),
            "quantity_sold": _number_text(rows["demand"]),
            "promotion_id": _promotion_ids(data)[keep].fillna(""),
        }
    )


def weather_frame(data: pd.DataFrame) -> pd.DataFrame:
    days = data.drop_duplicates(["store", "date"])
    return pd.DataFrame(
        {
            "date": _iso(days["date"]),
            "store_id": days["store"].astype(str),
            "temperature": _number_text(days["temperature"]),
            "precipitation": _number_text(days["rain"]),
        }
    )


def _extra_holidays(data: pd.DataFrame) -> pd.DataFrame:
    """The data's holidays that the holidays package does not give DE-BY (Easter and Whit Sunday)."""
    import holidays

    flagged = sorted(set(data.loc[data["is_holiday"] == 1, "date"].dt.date))
    years = sorted({d.year for d in flagged})
    regional = holidays.country_holidays(
        COUNTRY, subdiv=SUBDIVISION.split("-")[1], years=years, language="de"
    )
    names: dict[date, str] = {}
    for subdiv in holidays.Germany.subdivisions:  # a name for the day from any German state
        names.update(holidays.country_holidays(COUNTRY, subdiv=subdiv, years=years, language="de"))
    extra = [d for d in flagged if d not in regional]
    return pd.DataFrame(
        {
            "event_date_start": [d.isoformat() for d in extra],
            "event_date_end": [d.isoformat() for d in extra],
            "event_name": [names.get(d, "Feiertag") for d in extra],
            "event_type": "national_holiday",
            "scope": "national",
        }
    )


def events_frame(data: pd.DataFrame) -> pd.DataFrame:
    """School holidays per store (the flag differs between stores) and the holidays the package lacks."""
    days = data.drop_duplicates(["store", "date"])
    run = _runs(days["is_schoolholiday"] == 1, days["store"], days["date"])
    spans = days.groupby(run).agg(start=("date", "min"), end=("date", "max"), store=("store", "first"))
    school = pd.DataFrame(
        {
            "event_date_start": _iso(spans["start"]),
            "event_date_end": _iso(spans["end"]),
            "event_name": SCHOOL_HOLIDAY[0],
            "event_type": SCHOOL_HOLIDAY[1],
            "scope": spans["store"].astype(str),
        }
    )
    return pd.concat([_extra_holidays(data), school], ignore_index=True)


# ---- writing ------------------------------------------------------------------------------------
@dataclass
class ChainSummary:
    """What write_landing wrote: files, rows per kind, and how many store x product days got no sales row."""

    out: Path
    stores: int
    products: int
    start: date
    end: date
    closed: int
    not_offered: int
    rows: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def render(self) -> str:
        rows = ", ".join(f"{k} {v:,}" for k, v in sorted(self.rows.items()))
        return "\n".join(
            [
                f"ddop bakery chain in {self.out}: {self.stores} stores x {self.products} products, "
                f"{self.start}..{self.end} (data: ddop package, BSD-3-Clause, see {DATA_DIR / 'LICENSE'})",
                f"  files: {len(self.files)}; rows: {rows}",
                f"  no sales row: {self.closed:,} closed and {self.not_offered:,} not-offered store x product days",
            ]
        )


def _subset(
    data: pd.DataFrame, stores: Iterable[int | str] | None, start: date | None, end: date | None
) -> pd.DataFrame:
    keep = pd.Series(True, index=data.index)
    if stores is not None:
        keep &= data["store"].isin([int(s) for s in stores])
    if start is not None:
        keep &= data["date"] >= pd.Timestamp(start)
    if end is not None:
        keep &= data["date"] <= pd.Timestamp(end)
    if not keep.any():
        raise ValueError(f"no bakery-chain data for stores={stores!r}, {start}..{end}")
    return data[keep]


def landing_frames(
    data: pd.DataFrame,
    stores: Iterable[int | str] | None = None,
    start: date | None = None,
    end: date | None = None,
) -> dict[str, pd.DataFrame]:
    """Each landing kind's rows, as template text. Rules that look along a series (closed, not offered,
    regions, promotion weeks) see all the data; `stores`, `start` and `end` then pick a part of it."""
    frames = {
        "stores": stores_frame(data),
        "products": products_frame(data),
        "sales": sales_frame(data),
        "weather": weather_frame(data),
        "events": events_frame(data),
    }
    part = _subset(data, stores, start, end)
    store_ids = set(part["store"].astype(str))
    first, last = _iso(part["date"]).min(), _iso(part["date"]).max()
    frames["stores"] = frames["stores"][frames["stores"]["store_id"].isin(store_ids)]
    for kind in ("sales", "weather"):
        f = frames[kind]
        frames[kind] = f[f["store_id"].isin(store_ids) & f["date"].between(first, last)]
    ev = frames["events"]
    frames["events"] = ev[
        (ev["scope"].isin(store_ids) | (ev["scope"] == "national"))
        & (ev["event_date_end"] >= first)
        & (ev["event_date_start"] <= last)
    ]
    return {k: f.reset_index(drop=True) for k, f in frames.items()}


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def write_landing(
    landing_dir: Path,
    *,
    data: pd.DataFrame | None = None,
    stores: Iterable[int | str] | None = None,
    start: date | None = None,
    end: date | None = None,
) -> ChainSummary:
    """Write landing_dir/<kind>/bakery_chain_*.csv (sales and weather one file per year).

    The bytes depend only on the data and the arguments, so writing again leaves nothing new to ingest.
    """
    data = read_compact() if data is None else data
    frames = landing_frames(data, stores, start, end)
    closed, not_offered = (m[_subset(data, stores, start, end).index] for m in day_status(data))
    dates = frames["weather"]["date"]
    summary = ChainSummary(
        out=Path(landing_dir),
        stores=len(frames["stores"]),
        products=len(frames["products"]),
        start=date.fromisoformat(dates.min()),
        end=date.fromisoformat(dates.max()),
        closed=int(closed.sum()),
        not_offered=int(not_offered.sum()),
    )
    for kind, frame in frames.items():
        parts = frame.groupby(frame["date"].str[:4]) if kind in ("sales", "weather") else [("", frame)]
        for label, part in parts:
            name = f"{FILE_PREFIX}_{kind}{'_' + label if label else ''}.csv"
            body = _csv_bytes(part)
            summary.files.append(
                write_atomically(summary.out / kind / name, lambda tmp, b=body: tmp.write_bytes(b))
            )
        summary.rows[kind] = len(frame)
    log.info("%s", summary.render())
    return summary
