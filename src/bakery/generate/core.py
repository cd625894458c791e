"""generate_demo: simulate the chain and write every source into a landing folder, plus the truth."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from bakery.generate.catalog import products_records, stores_frame
from bakery.generate.defects import DefectRecord, defects_frame, render_pos_files
from bakery.generate.events import events_frame
from bakery.generate.ingredients import INGREDIENT_COLUMNS, ingredient_rows
from bakery.generate.params import load_config, stream
from bakery.generate.pos import POS_COLUMNS, pos_table, store_lines
from bakery.generate.sources import (
    deliveries_table,
    inventory_frame,
    traffic_counts,
    traffic_table,
    truth_table,
)
from bakery.generate.summary import GenerateSummary
from bakery.generate.weather import weather_frame
from bakery.generate.world import World, simulate
from bakery.generate.writer import (
    LandingWriter,
    csv_body,
    csv_header,
    csv_text,
    json_array,
    json_lines,
    parquet_bytes,
    xlsx_bytes,
)
from bakery.logs import log_lines

log = logging.getLogger(__name__)

MANIFEST = "_truth/manifest.json"
TRUTH = "_truth/demand.parquet"
DEFECTS = "_truth/defects.csv"


def _check_args(stores: int, products: int, start: date, end: date, seed: int, catalogue: int) -> None:
    if not isinstance(stores, int) or stores < 1:
        raise ValueError(f"stores must be a positive integer, got {stores!r}")
    if not isinstance(products, int) or not 1 <= products <= catalogue:
        raise ValueError(f"products must be between 1 and {catalogue} (the catalogue size), got {products!r}")
    if not isinstance(start, date) or not isinstance(end, date):
        raise ValueError(f"start and end must be dates, got start={start!r} end={end!r}")
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")


def _remove_previous(out: Path) -> None:
    """Delete the files a previous run listed in its manifest (and nothing else) before writing again."""
    manifest = out / MANIFEST
    if not manifest.exists():
        return
    for rel in json.loads(manifest.read_text(encoding="utf-8"))["files"]:
        (out / rel).unlink(missing_ok=True)
        if rel.startswith("_late/"):
            (out / rel.removeprefix("_late/")).unlink(missing_ok=True)  # where a late file gets delivered
    log.info("removed the files of the previous generator run in %s", out)


def _months(world: World, daily_days: int = 0) -> list[tuple[str, slice]]:
    """(label, day slice) per month; the last `daily_days` days get a file each, labelled YYYY-MM-DD (the
    way a chain delivers its daily exports once the history is loaded)."""
    labels = np.array(world.period.dates.strftime("%Y-%m"), dtype=object)
    if daily_days:
        labels[-daily_days:] = world.period.dates[-daily_days:].strftime("%Y-%m-%d")
    firsts = np.flatnonzero(np.concatenate(([True], labels[1:] != labels[:-1])))
    bounds = [*firsts.tolist(), labels.size]
    return [(str(labels[a]), slice(a, b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _write_reference(world: World, writer: LandingWriter) -> None:
    stores = stores_frame(world.stores)
    writer.write("stores/stores.csv", csv_text(stores), "stores", len(stores))
    last = world.period.days - 1
    prices = {p.product_id: float(world.prices[p.index, last]) / 100 for p in world.products}
    records = products_records(world.products, prices)
    writer.write("products/products.json", json_array(records), "products", len(records))
    events = events_frame(world.cfg, world.stores, world.calendar, world.period.start, world.events_until)
    writer.write("events/events.csv", csv_text(events), "events", len(events))


def _write_weather(world: World, writer: LandingWriter) -> list[DefectRecord]:
    spec = world.cfg["defects"]["missing_day"]
    gap_store = world.pick_store(spec["store_index"])
    gap_day = world.period.start + timedelta(days=world.period.at(float(spec["at"])))
    records = []
    for s in world.stores:
        frame = weather_frame(world.weather, s, world.weather_dates)
        if s is gap_store:
            frame = frame[frame["date"] != gap_day.isoformat()]
        years = frame["date"].str[:4]
        for year in sorted(years.unique()):
            part = frame[years == year]
            rel = f"weather/weather_{s.store_id}_{year}.csv"
            writer.write(
                rel,
                csv_header(list(part.columns)) + csv_body(pa.Table.from_pandas(part, preserve_index=False)),
                "weather",
                len(part),
            )
            if s is gap_store and year == str(gap_day.year):
                records.append(
                    DefectRecord(
                        "weather", rel, None, "missing_day", f"no weather row for {s.store_id} on {gap_day}"
                    )
                )
    return records


def _pos_pieces(
    world: World, days: np.ndarray, store_id: str, late: bool, daily_days: int = 0
) -> list[tuple[str, int, int]]:
    """(file, first line, end line) per month; the late store's last days go to a file under _late/."""
    pieces = []
    for label, sl in _months(world, daily_days):
        a, b = np.searchsorted(days, [sl.start, sl.stop])
        if b > a:
            pieces.append((f"pos/pos_{store_id}_{label}.csv", int(a), int(b)))
    if late and pieces:
        name, a, b = pieces[-1]
        late_days = int(world.cfg["defects"]["late_file"]["days"])
        cut = max(int(np.searchsorted(days, world.period.days - late_days)), a)
        late_name = "_late/" + name.replace(".csv", "_late.csv")
        if cut < b:
            pieces[-1:] = [(name, a, cut), (late_name, cut, b)] if cut > a else [(late_name, a, b)]
    return pieces


def _write_pos(
    world: World, writer: LandingWriter, daily_days: int = 0
) -> tuple[list[Path], list[DefectRecord], list[Any]]:
    cfg, seed = world.cfg, world.seed
    late_store = world.pick_store(cfg["defects"]["late_file"]["store_index"])
    header = csv_header(POS_COLUMNS)
    late_paths: list[Path] = []
    records: list[DefectRecord] = []
    traffic = []
    for s in world.stores:
        i = s.index
        lines = store_lines(
            cfg,
            s,
            world.products,
            world.stock.sold[i],
            world.prices,
            world.promotions.discount[i],
            world.promotions.code[i],
            world.calendar.hours[i],
            seed,
        )
        table = pos_table(
            lines, s, world.products, world.texts.dates, world.texts.offsets[i], world.promotions.ids
        )
        pieces = _pos_pieces(world, lines.day, s.store_id, s is late_store, daily_days)
        bodies = [csv_body(table.slice(a, b - a)) for _, a, b in pieces]
        names = [name for name, _, _ in pieces]
        rendered, found = render_pos_files(cfg["defects"], bodies, names, stream(seed, "defects", i))
        records.extend(found)
        for name, body in zip(names, rendered, strict=True):
            rows = body.count(b"\n")
            path = writer.write(name, header + body, "pos", rows)
            if name.startswith("_late/"):
                late_paths.append(path)
                records.append(
                    DefectRecord(
                        "pos", name, None, "late_file", f"{rows} rows of {s.store_id}'s last days arrive late"
                    )
                )
        traffic.append(
            traffic_counts(
                cfg,
                s,
                lines.hourly_tickets,
                world.calendar.hours[i],
                world.calendar.open[i],
                stream(seed, "traffic", i),
            )
        )
        log.debug("POS %s: %d lines in %d files", s.store_id, len(lines), len(names))
    return late_paths, records, traffic


def _write_monthly(world: World, writer: LandingWriter, traffic: list[Any], daily_days: int = 0) -> None:
    """Deliveries (CSV), weekly inventory counts (JSON lines) and hourly traffic (Parquet), one file per month
    (and per day for the last daily_days)."""
    cfg = world.cfg
    truck = stream(world.seed, "trucks").integers(0, 15, (len(world.stores), world.period.days)) * 60
    weekday = world.period.dates.weekday.to_numpy()
    snapshot_day = int(cfg["inventory"]["snapshot_weekday"])
    for label, sl in _months(world, daily_days):
        table = deliveries_table(cfg, world.stock, world.stores, world.products, world.texts, sl, truck)
        writer.write(
            f"deliveries/deliveries_{label}.csv",
            csv_header(table.column_names) + csv_body(table),
            "deliveries",
            table.num_rows,
        )
        days = np.arange(sl.start, sl.stop)[weekday[sl] == snapshot_day]
        if days.size:
            inv = inventory_frame(
                cfg, world.stock, world.offer.offered, world.stores, world.products, world.texts, days
            )
            writer.write(
                f"inventory/inventory_{label}.json", json_lines(inv.to_pandas()), "inventory", inv.num_rows
            )
        tr = traffic_table(world.stores, traffic, world.texts, world.period.days, sl)
        if tr.num_rows:
            writer.write(f"traffic/traffic_{label}.parquet", parquet_bytes(tr), "traffic", tr.num_rows)


def _write_ingredients(world: World, writer: LandingWriter) -> None:
    scale = np.array([p.scale for p in world.products], dtype=float)[None, :, None]
    units = (world.stock.sold / scale).sum(axis=1)
    for year, rows in ingredient_rows(world.cfg, world.stores, world.period, units, world.seed).items():
        writer.write(
            f"ingredients/ingredients_{year}.xlsx",
            xlsx_bytes(INGREDIENT_COLUMNS, rows, "ingredients"),
            "ingredients",
            len(rows),
        )


def _write_truth(world: World, writer: LandingWriter, records: list[DefectRecord]) -> None:
    truth = truth_table(
        world.expected,
        world.demand,
        world.stock,
        world.calendar.open,
        world.offer.offered,
        world.promotions,
        world.stores,
        world.products,
        world.period.dates,
    )
    writer.write(TRUTH, parquet_bytes(truth))
    writer.write(DEFECTS, csv_text(defects_frame(records)))


def _defect_counts(records: list[DefectRecord], late_rows: int) -> dict[str, int]:
    counts = Counter(r.defect for r in records)
    counts["late_rows"] = late_rows
    return dict(sorted(counts.items()))


def generate_demo(
    out: Path,
    *,
    stores: int = 6,
    products: int = 30,
    start: date,
    end: date,
    seed: int = 42,
    config: Path | Mapping[str, Any] | None = None,
    daily_days: int = 0,
) -> GenerateSummary:
    """Generate the demo chain's landing files into `out` (deterministic for the arguments).

    Writes out/<kind>/... for every source of conf/sources.yml except `sales`, out/_late/pos/ (a POS
    file that arrives late), out/_truth/demand.parquet (true demand, sales, stock-outs) and
    out/_truth/defects.csv (where each injected defect is). `config` is conf/generator.yml's path, or a
    mapping of overrides deep-merged over it. The POS, deliveries, inventory and traffic rows of the last
    `daily_days` days go to one file per day (e.g. pos/pos_S001_2026-11-24.csv) instead of their month's.
    """
    cfg = load_config(config) if isinstance(config, Path) else load_config(overrides=config)
    _check_args(stores, products, start, end, seed, len(cfg["products"]))
    if not 0 <= daily_days < (end - start).days + 1:
        raise ValueError(
            f"daily_days must be between 0 and the number of days - 1 ({(end - start).days}), got {daily_days}"
        )
    out = Path(out).resolve()
    _remove_previous(out)
    world = simulate(cfg, stores, products, start, end, seed)
    writer = LandingWriter(out)
    _write_reference(world, writer)
    records = _write_weather(world, writer)
    late_paths, pos_records, traffic = _write_pos(world, writer, daily_days)
    records.extend(pos_records)
    _write_monthly(world, writer, traffic, daily_days)
    _write_ingredients(world, writer)
    landing_files = len(writer.files)
    _write_truth(world, writer, records)
    manifest = {
        "stores": stores,
        "products": products,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "seed": seed,
        "files": [writer.relative(p) for p in writer.files] + [MANIFEST],
    }
    writer.write(MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode())
    late_rows = sum(writer.rows_of(p) for p in late_paths)
    summary = GenerateSummary(
        out=out,
        stores=stores,
        products=products,
        start=start,
        end=end,
        seed=seed,
        rows=dict(sorted(writer.rows.items())),
        files=landing_files,
        late_files=late_paths,
        truth_path=out / TRUTH,
        defects_path=out / DEFECTS,
        defects=_defect_counts(records, late_rows),
    )
    log_lines(log, ["generated demo data:", *summary.render().splitlines()])
    return summary
