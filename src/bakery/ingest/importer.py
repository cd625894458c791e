"""`bakery import`: validate a user's file against a template, report by row and column, land the good rows.

An accepted file's good rows are written (canonical text, template column names) as one Parquet file
landing/<kind>/import_<timestamp>_<stem>.parquet, which the next `bakery ingest` takes like any other
landing file. A rejected file (unreadable, unmappable, or more bad rows than --max-error-rate allows)
writes nothing to the landing zone. Either way a JSON report and, when rows were left out, a CSV of those
rows with a `reason` column land in <home>/reports/.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from bakery.config import Settings, SourceSpec
from bakery.ingest.landing import write_atomically
from bakery.ingest.limits import ingest_limits
from bakery.ingest.mapping import load_synonyms
from bakery.ingest.readers import FileRejected, RawTable, read_file, unique_names
from bakery.ingest.reshape import ReshapeError, reshape_raw
from bakery.ingest.validate import REGION_SCOPES, STORE_SCOPES, ValidationReport, validate_raw

log = logging.getLogger(__name__)

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class ImportResult:
    """Outcome of one import: accepted or not, where the report is, and the counts."""

    kind: str
    file: Path
    accepted: bool
    report_path: Path
    reason: str
    totals: dict[str, Any] = field(default_factory=dict)
    bad_rows_path: Path | None = None
    landing_path: Path | None = None
    first_errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        t = self.totals
        lines = [
            f"import {self.kind} {self.file.name}: {'ACCEPTED' if self.accepted else 'REJECTED'} - {self.reason}"
        ]
        if "rows" in t and t.get("error_rate") is None:
            lines.append(f"  rows {t['rows']}: none checked, the file is rejected as a whole, written 0")
        elif "rows" in t:
            lines.append(
                f"  rows {t['rows']}, valid {t.get('valid_rows', 0)}, invalid {t.get('invalid_rows', 0)} "
                f"({100 * t['error_rate']:.1f}%), duplicate rows skipped {t.get('skipped_duplicates', 0)}, "
                f"written {t.get('rows_written', 0)}"
            )
        lines += [f"  {e}" for e in self.first_errors]
        lines += [f"  note: {n}" for n in self.notes]
        if self.landing_path:
            lines.append(f"  landed: {self.landing_path}")
        if self.bad_rows_path:
            lines.append(f"  rows left out: {self.bad_rows_path}")
        lines.append(f"  report: {self.report_path}")
        return "\n".join(lines)


def safe_cell(value: Any) -> Any:
    """Neutralize spreadsheet formula injection: text starting with = + - @ (or TAB/CR) gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")


def _safe_stem(path: Path) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", path.stem).strip("_")[:80] or "file"


# ---- stored data (read without Spark) ----------------------------------------------------------------
class StoredDataUnavailable(Exception):
    """A silver table exists but cannot be read without Spark (e.g. it uses deletion vectors)."""


def _silver(settings: Settings, table: str, columns: list[str]) -> pd.DataFrame | None:
    from deltalake import DeltaTable
    from deltalake.exceptions import DeltaError

    path = settings.tables_dir / "silver" / table
    if not (path / "_delta_log").is_dir():
        return None
    try:
        dt_table = DeltaTable(str(path))
        if not set(columns) <= {f.name for f in dt_table.schema().fields}:
            return None
        data = dt_table.to_pyarrow_table(columns=columns)
    except (DeltaError, OSError) as exc:
        raise StoredDataUnavailable(f"silver.{table} could not be read without Spark: {exc}") from exc
    return data.to_pandas(date_as_object=True)


def _stored_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        ts = value.tz_convert("UTC").tz_localize(None) if value.tzinfo else value
        return ts.to_pydatetime()
    if hasattr(value, "item"):
        return value.item()
    return value


def stored_keys(
    settings: Settings, spec: SourceSpec, ignore_files: Collection[str] = ()
) -> set[tuple] | None:
    """Natural keys already in silver.<table> as typed tuples (None when the table does not exist yet),
    leaving out the rows that came from `ignore_files` (landing files, as `_source_file`)."""
    df = _silver(settings, spec.table, [*spec.keys, *(["_source_file"] if ignore_files else [])])
    if df is None:
        return None
    if ignore_files:
        df = df[~df.pop("_source_file").isin(list(ignore_files))]
    return {tuple(_stored_value(v) for v in row) for row in df.itertuples(index=False, name=None)}


# Columns that must name a row of a dimension (silver quarantines rows with unknown ids as unknown_store /
# unknown_product): column -> the dimension's source kind.
DIMENSIONS = {"store_id": "stores", "product_id": "products"}


def _references(spec: SourceSpec) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(column, dimension kind, the dimension's id column, values naming no row) for each column of `spec`
    that names a row of a dimension."""
    refs = [
        (col, kind, col, ())
        for col, kind in DIMENSIONS.items()
        if col in spec.column_names and spec.kind != kind
    ]
    if spec.kind in STORE_SCOPES:
        column, literals = STORE_SCOPES[spec.kind]
        refs.append((column, "stores", "store_id", literals))
    return refs


def known_ids(settings: Settings, kind: str, column: str) -> set[str] | None:
    """Ids of dimension `kind` in silver or in landing files not yet ingested (None if one cannot be read)."""
    ids: set[str] = set()
    try:
        stored = _silver(settings, settings.source(kind).table, [column])
    except StoredDataUnavailable:
        return None
    if stored is not None:
        ids |= {str(v) for v in stored[column].dropna()}
    limits = ingest_limits(settings)
    for path in (
        sorted((settings.landing_dir / kind).glob("*")) if (settings.landing_dir / kind).is_dir() else []
    ):
        try:
            frame = read_file(path, limits=limits).frame()
        except (FileRejected, OSError, ValueError):
            continue
        if column in frame:
            ids |= {str(v).strip() for v in frame[column].dropna()}
    return ids


def unknown_id_notes(settings: Settings, spec: SourceSpec, rows: pd.DataFrame) -> list[str]:
    """A note per dimension the accepted rows name ids of that are not known yet: `bakery ingest` would
    quarantine those rows, so the user imports the dimension first."""
    notes = []
    for column, kind, id_column, literals in _references(spec):
        if column not in rows:
            continue
        names = rows[column].dropna().astype(str)
        names = names[~names.isin(literals)]
        known = known_ids(settings, kind, id_column) if len(names) else set()
        if known is not None and spec.kind in REGION_SCOPES and len(names):
            regions = set().union(
                *(known_ids(settings, kind, c) or set() for c in ("country", "subdivision"))
            )
            names = names[~names.str.upper().isin({r.upper() for r in regions})]
        missing = sorted(set(names) - known) if known is not None else []
        if missing:
            shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
            notes.append(
                f"{len(missing)} {column} value(s) not in any imported {kind} yet ({shown}), in "
                f"{int(names.isin(missing).sum())} row(s): import {kind} before `bakery ingest`, or ingest "
                f"will quarantine their rows as unknown_{kind[:-1]} until the {kind} arrive (the ingest "
                "after that takes them)"
            )
    return notes


def store_timezones(settings: Settings) -> dict[str, str]:
    """Store -> IANA timezone from silver.stores, to compare store-local timestamps with stored UTC ones."""
    df = _silver(settings, settings.source("stores").table, ["store_id", "timezone"])
    return {} if df is None else {r.store_id: r.timezone for r in df.itertuples() if r.timezone}


# ---- outputs ----------------------------------------------------------------------------------------
def _write_bad_rows(path: Path, raw: RawTable, reasons: Mapping[int, str]) -> None:
    df = raw.frame()
    lines = raw.line_series()
    headers = unique_names(raw.headers)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([safe_cell(h) for h in ["row", "line", *headers, "reason"]])
        for row, reason in reasons.items():
            line = lines.get(row)
            values = df.loc[row].tolist() if row in df.index else [None] * len(headers)
            w.writerow(
                [
                    row,
                    None if line is None or pd.isna(line) else int(line),
                    *(safe_cell(v) for v in values),
                    safe_cell(reason),
                ]
            )


def _write_landing(path: Path, rows: pd.DataFrame, spec: SourceSpec) -> None:
    schema = pa.schema([(c, pa.string()) for c in spec.column_names])
    table = pa.Table.from_pandas(
        rows[spec.column_names].reset_index(drop=True), schema=schema, preserve_index=False
    )
    write_atomically(path, lambda tmp: pq.write_table(table, tmp))


def import_file(
    settings: Settings,
    kind: str,
    file: Path,
    mapping: Mapping[str, str | None] | None = None,
    on_duplicate: str = "skip",
    max_error_rate: float = 0.0,
    today: dt.date | None = None,
    replaces_files: Collection[str] = (),
    shape: Mapping[str, Any] | None = None,
    hold: bool = False,
) -> ImportResult:
    """Validate `file` as `kind` and, when its bad-row rate is at most max_error_rate, land its good rows.

    hold: land them under a hidden name (a leading `.`, which the pipeline skips); the caller renames the
    file into place once its own record of it is written (the app's upload batches).

    shape: for `sales` files that are not one row per record (one row per item sold, one column per product),
    how to turn them into daily sales first (bakery.ingest.reshape); a shape that does not fit the file is a
    rejection naming the key or column at fault.

    replaces_files: landing files of the upload this one replaces; their rows in silver are about to be
    taken out, so they do not count as stored duplicates (the replacement's rows for the same keys land).

    Raises ValueError for an unknown kind or bad arguments, FileNotFoundError for a missing file; every
    problem with the file's content is a rejection with a report instead.
    """
    spec = settings.source(kind)
    if on_duplicate not in ("skip", "overwrite"):
        raise ValueError(f"on_duplicate must be 'skip' or 'overwrite', got {on_duplicate!r}")
    if not 0.0 <= max_error_rate <= 1.0:
        raise ValueError(f"max_error_rate must be between 0 and 1, got {max_error_rate}")
    file = Path(file)
    if not file.is_file():
        raise FileNotFoundError(f"import file {file} does not exist")
    stamp = _stamp()
    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    report_path = settings.reports_dir / f"import_{kind}_{stamp}.json"
    base = {
        "kind": kind,
        "file": str(file),
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "on_duplicate": on_duplicate,
        "max_error_rate": max_error_rate,
        **({"shape": dict(shape)} if shape else {}),
    }
    if shape is not None and kind != "sales":
        raise ValueError(f"a shape turns a file into daily sales: it applies to kind 'sales', not {kind!r}")
    limits = ingest_limits(settings)
    try:
        raw = _read(settings, file)
        if shape is not None:
            raw = reshape_raw(raw, dict(shape), limits)
    except ReshapeError as exc:
        return _finish(
            report_path,
            base,
            ImportResult(kind, file, False, report_path, f"file:shape: {exc}"),
            None,
            {"fatal": f"file:shape: {exc}"},
        )
    except FileRejected as rej:
        return _finish(
            report_path,
            base,
            ImportResult(kind, file, False, report_path, f"{rej.rule}: {rej.reason}"),
            None,
            {"fatal": f"{rej.rule}: {rej.reason}"},
        )
    notes: list[str] = []
    try:
        existing, zones = stored_keys(settings, spec, replaces_files), store_timezones(settings)
    except StoredDataUnavailable as exc:
        log.warning("%s", exc)
        existing, zones = None, {}
        notes.append(f"duplicates against stored data were not checked: {exc}")
    report = validate_raw(
        raw,
        spec,
        mapping,
        synonyms=load_synonyms(settings),
        today=today,
        limits=limits,
        existing_keys=existing,
        store_timezones=zones,
        on_duplicate=on_duplicate,
    )
    accepted = report.fatal is None and report.error_rate <= max_error_rate
    reason = _reason(report, accepted, max_error_rate)
    result = ImportResult(
        kind,
        file,
        accepted,
        report_path,
        reason,
        notes=notes,
        first_errors=[
            f"row {e.row}{f' ({e.column})' if e.column else ''}: {e.reason}" for e in report.errors[:5]
        ],
    )
    reasons = report.row_reasons()
    if reasons:
        result.bad_rows_path = settings.reports_dir / f"import_{kind}_{stamp}_bad_rows.csv"
        _write_bad_rows(result.bad_rows_path, raw, reasons)
    if accepted and len(report.rows):
        result.notes += unknown_id_notes(settings, spec, report.rows)
        hidden = "." if hold else ""
        result.landing_path = (
            settings.landing_dir / kind / f"{hidden}import_{stamp}_{_safe_stem(file)}.parquet"
        )
        _write_landing(result.landing_path, report.rows, spec)
    return _finish(report_path, base, result, report, {})


def _read(settings: Settings, file: Path) -> RawTable:
    """The file within the ingest limits: its size first, then rows, columns and decoded size (readers)."""
    max_bytes = settings.get("ingest.max_file_bytes")
    size = file.stat().st_size
    if max_bytes and size > max_bytes:
        raise FileRejected("file:too_large", f"{size} bytes exceeds ingest.max_file_bytes={max_bytes}")
    return read_file(file, limits=ingest_limits(settings))


def _reason(report: ValidationReport, accepted: bool, max_error_rate: float) -> str:
    if report.fatal:
        return report.fatal
    rate = f"{100 * report.error_rate:.1f}% of rows invalid"
    if not accepted:
        return f"{rate}, more than --max-error-rate {100 * max_error_rate:.1f}%"
    return f"{rate} (limit {100 * max_error_rate:.1f}%)"


def _finish(
    report_path: Path,
    base: dict[str, Any],
    result: ImportResult,
    report: ValidationReport | None,
    extra: dict[str, Any],
) -> ImportResult:
    body = {
        **base,
        "accepted": result.accepted,
        "reason": result.reason,
        **(report.to_dict() if report else {}),
        **extra,
    }
    totals = dict(body.get("totals") or {})
    totals["rows_written"] = len(report.rows) if (report is not None and result.landing_path) else 0
    body["totals"] = result.totals = totals
    body["landing_file"] = str(result.landing_path) if result.landing_path else None
    body["bad_rows_csv"] = str(result.bad_rows_path) if result.bad_rows_path else None
    body["notes"] = result.notes
    write_atomically(
        report_path, lambda tmp: tmp.write_text(json.dumps(body, indent=2, default=str), encoding="utf-8")
    )
    log.info(
        "import %s %s: %s (%s)",
        result.kind,
        result.file,
        "accepted" if result.accepted else "rejected",
        result.reason,
    )
    return result
