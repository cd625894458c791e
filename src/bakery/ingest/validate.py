"""Template validation in pure pandas: required values, types, ranges, future dates and duplicates by row and column.

Shared by `bakery import` and the web app's upload module. Give `validate_frame` a file's rows as a
DataFrame of strings (columns = file headers, index = 1-based data row number), the kind's SourceSpec and
an optional mapping; it returns a ValidationReport holding every error and the rows to keep, written as
canonical text (ISO dates, ISO 8601 timestamps, '.' decimals) under the template's column names.

Accepted value formats: dates `YYYY-MM-DD` (a midnight time part is tolerated); timestamps ISO 8601 with
or without offset (`T` or space, `Z` allowed); numbers with '.' or ',' as the decimal separator and no
thousands separator, so one ',' between digits is a decimal comma (`3,465` is 3.465 kg), except where
`d,ddd` may be a thousands group: in a whole-number column, or in a column whose other values use '.'
decimals; a currency sign or code before or after a number is dropped (`0,90 €`, `$1.20`, `1.20 EUR`);
enumerated values case-insensitively.

A cell longer than `ingest.max_cell_chars` is refused (rule `too_long:<column>`) before any pattern reads it,
and a value of an id column (a string column named `*_id`) may not hold a control character (a newline, a
tab): `S001\n` is not the store `S001`.

Rules across columns: a store's timezone is an IANA zone and its subdivision is an ISO 3166-2 code of its
country; an event does not end before it starts. Rows of one file with the same natural key and different values are invalid (which
one is right is the user's call); identical repeats are skipped as duplicates.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import pandas as pd

from bakery.config import ColumnSpec, SourceSpec
from bakery.ingest.limits import IngestLimits, ingest_limits
from bakery.ingest.mapping import ColumnMapping, Synonyms, load_synonyms, map_columns
from bakery.ingest.readers import RawTable
from bakery.public_holidays import subdivision_problem

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")
_THOUSANDS_LIKE = re.compile(r"[+-]?\d{1,3},\d{3}")
# A price as shops export it: a currency sign or ISO code before or after the number (spaces, no-break ones too).
CURRENCIES = ("€", "$", "£", "¥", "₩", "EUR", "USD", "GBP", "CHF", "KRW", "JPY")
_CURRENCY_ENDS = frozenset(c[0] for c in CURRENCIES) | frozenset(c[-1] for c in CURRENCIES)
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})([T ]00:00(:00(\.0+)?)?)?")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BOOLEAN = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}
TYPE_HINT = {
    "date": "a date as YYYY-MM-DD",
    "timestamp": "an ISO 8601 timestamp such as 2026-01-31T08:15:00+01:00",
    "double": "a number ('.' or ',' decimals, no thousands separator)",
    "long": "a whole number (no thousands separator)",
    "boolean": "true or false",
}


@dataclass
class RowError:
    """One problem in one row (and column, when it is about a value)."""

    row: int
    column: str | None
    rule: str
    reason: str
    value: str | None = None
    line: int | None = None


@dataclass
class Duplicate:
    """A row whose natural key repeats another row of the file with the same values, or a stored row."""

    row: int
    duplicate_of: str
    action: str


@dataclass
class ValidationReport:
    """Everything validation found, plus the rows to keep (canonical text, template columns, index = row)."""

    kind: str
    total_rows: int
    mapping: dict[str, str] = field(default_factory=dict)
    mapping_how: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    fatal: str | None = None
    errors: list[RowError] = field(default_factory=list)
    invalid_rows: list[int] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    rows: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def error_rate(self) -> float:
        if self.fatal is not None or self.total_rows == 0:
            return 1.0
        return len(self.invalid_rows) / self.total_rows

    @property
    def skipped_rows(self) -> list[int]:
        return [d.row for d in self.duplicates if d.action == "skipped"]

    def row_reasons(self) -> dict[int, str]:
        """Why each row not kept was left out (invalid or skipped duplicate), for the bad-rows file."""
        reasons: dict[int, list[str]] = {}
        for e in self.errors:
            reasons.setdefault(e.row, []).append(f"{e.column}: {e.reason}" if e.column else e.reason)
        for d in self.duplicates:
            if d.action == "skipped":
                reasons.setdefault(d.row, []).append(f"duplicate key of {d.duplicate_of} (skipped)")
        return {row: "; ".join(r) for row, r in sorted(reasons.items())}

    def totals(self) -> dict[str, Any]:
        """Counts for reports; a file rejected as a whole (fatal) had no row checked: no valid rows, no rate."""
        checked = self.fatal is None
        return {
            "rows": self.total_rows,
            "valid_rows": self.total_rows - len(self.invalid_rows) if checked else 0,
            "invalid_rows": len(self.invalid_rows),
            "error_rate": round(self.error_rate, 6) if checked else None,
            "duplicates_in_file": sum(1 for d in self.duplicates if d.duplicate_of.startswith("row")),
            "duplicates_of_stored": sum(1 for d in self.duplicates if d.duplicate_of == "stored data"),
            "skipped_duplicates": len(self.skipped_rows),
            "rows_to_write": len(self.rows),
        }

    def to_dict(self, max_errors: int = 10_000) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "fatal": self.fatal,
            "totals": self.totals(),
            "mapping": self.mapping,
            "mapping_how": self.mapping_how,
            "ignored_columns": self.ignored_columns,
            "errors": [vars(e) for e in self.errors[:max_errors]],
            "errors_truncated": len(self.errors) > max_errors,
            "duplicates": [vars(d) for d in self.duplicates[:max_errors]],
        }


# ---- value parsing ------------------------------------------------------------------------------
@dataclass
class Parsed:
    """One column parsed: typed values (for ranges and keys), canonical text, and which entries are bad."""

    values: pd.Series
    text: pd.Series
    bad: pd.Series


def _obj(values: Any, index: pd.Index) -> pd.Series:
    return pd.Series(list(values), index=index, dtype=object)


def _text(v: Any) -> str | None:
    """A value as text; None for a missing one (None, NaN, pd.NA)."""
    if isinstance(v, str):
        return v
    missing = v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v))
    return None if missing else str(v)


def _cell(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    text = str(v).strip()
    return text or None


def strip_currency(text: str) -> str:
    """The number of a price: spaces and one currency sign or ISO code dropped from each end.

    Plain string operations, linear in the length (a pattern with optional parts around `.*?` took cubic time
    on `1` + 2,000 spaces + `x`).
    """
    t = text.strip()
    if t and t[0] in _CURRENCY_ENDS:
        t = next((t[len(c) :].lstrip() for c in CURRENCIES if t.startswith(c)), t)
    if t and t[-1] in _CURRENCY_ENDS:
        t = next((t[: -len(c)].rstrip() for c in CURRENCIES if t.endswith(c)), t)
    return t


def parse_numbers(items: pd.Series, whole: bool = False) -> list[float | None]:
    """Numbers with '.' or ',' decimals, a currency sign or code allowed; None where a value is absent, not a
    plain number, or ambiguous. Linear in the length of each value.

    `d,ddd` may be a thousands group where the column is of whole numbers or also holds '.' decimals:
    refused there rather than read as a decimal comma.
    """
    t = pd.Series(
        [None if v is None else strip_currency(v) for v in map(_text, items)],
        index=items.index,
        dtype="string",
    )
    comma = t.str.fullmatch(_DECIMAL_COMMA.pattern).fillna(False).astype(bool)
    if whole or (t.str.fullmatch(_NUMBER.pattern) & t.str.contains(".", regex=False)).fillna(False).any():
        comma &= ~t.str.fullmatch(_THOUSANDS_LIKE.pattern).fillna(False).astype(bool)
    t = t.where(~comma, t.str.replace(",", ".", regex=False))
    ok = t.str.fullmatch(_NUMBER.pattern).fillna(False).astype(bool)
    num = pd.to_numeric(t.where(ok).astype(object), errors="coerce")
    return [None if pd.isna(v) or math.isinf(v) else float(v) for v in num]


def _date(text: str) -> dt.date | None:
    m = _DATE.fullmatch(text)
    try:
        return dt.date.fromisoformat(m.group(1)) if m else None
    except ValueError:
        return None


def _timestamp(text: str) -> dt.datetime | None:
    if not _TIMESTAMP.fullmatch(text):
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def _iso(v: Any) -> str | None:
    return None if v is None else v.isoformat()


def parse_values(s: pd.Series, col: ColumnSpec) -> Parsed:
    """Parse a column of text as the spec's type; blank text counts as absent, not as bad."""
    idx = s.index
    items = [_cell(v) for v in s]
    if col.type == "string":
        values, text = items, items
    elif col.type in ("double", "long"):
        values = parse_numbers(_obj(items, idx), whole=col.type == "long")
        if col.type == "long":
            values = [int(v) if v is not None and v.is_integer() else None for v in values]
        text = [None if v is None else (str(v) if col.type == "long" else repr(v)) for v in values]
    elif col.type == "date":
        values = [None if v is None else _date(v) for v in items]
        text = [_iso(v) for v in values]
    elif col.type == "timestamp":
        values = [None if v is None else _timestamp(v) for v in items]
        text = [_iso(v) for v in values]
    else:
        values = [None if v is None else _BOOLEAN.get(v.lower()) for v in items]
        text = [None if v is None else ("true" if v else "false") for v in values]
    bad = [i is not None and v is None for i, v in zip(items, values, strict=True)]
    return Parsed(_obj(values, idx), _obj(text, idx), pd.Series(bad, index=idx, dtype=bool))


# ---- checks -------------------------------------------------------------------------------------
def _errors(mask: pd.Series, raw: pd.Series, column: str, rule: str, reason: str) -> list[RowError]:
    """One error per masked row; `{value}` in the reason becomes the row's raw value, quoted."""
    return [
        RowError(int(row), column, rule, reason.replace("{value}", repr(raw[row])), raw[row])
        for row in mask[mask].index
    ]


def _too_long(raw: pd.Series, column: str, max_chars: int) -> tuple[pd.Series, list[RowError]]:
    """Cells longer than max_chars, as errors showing their start; the column without them, for the rest."""
    length = pd.Series([len(v) if isinstance(v, str) else 0 for v in raw], index=raw.index, dtype="int64")
    long = length > max_chars
    if not long.any():
        return raw, []
    errors = [
        RowError(
            int(row),
            column,
            f"too_long:{column}",
            f"a value of {length[row]} characters is longer than the limit of {max_chars} "
            "(ingest.max_cell_chars)",
            raw[row][:40] + "…",
        )
        for row in long[long].index
    ]
    return raw.where(~long, None), errors


def _check_column(
    raw: pd.Series, col: ColumnSpec, spec: SourceSpec, today: dt.date
) -> tuple[Parsed, list[RowError]]:
    parsed = parse_values(raw, col)
    errs = _errors(
        parsed.bad, raw, col.name, f"type:{col.name}", f"{{value}} is not {TYPE_HINT.get(col.type)}"
    )
    if col.type == "string" and col.name.endswith("_id"):
        control = pd.Series(
            [isinstance(v, str) and _CONTROL.search(v) is not None for v in raw], index=raw.index, dtype=bool
        )
        errs += _errors(
            control,
            raw,
            col.name,
            f"id:{col.name}",
            "{value} holds a control character (a line break, a tab); an id is one line of text",
        )
    present = parsed.values.notna() & ~parsed.bad
    if col.required:
        missing = parsed.values.isna() & ~parsed.bad
        errs += _errors(missing, raw, col.name, f"not_null:{col.name}", "required value missing")
    if col.type in ("double", "long") and (col.min is not None or col.max is not None):
        lo = -math.inf if col.min is None else col.min
        hi = math.inf if col.max is None else col.max
        out = present & parsed.values.map(lambda v: v is not None and not lo <= v <= hi).astype(bool)
        errs += _errors(
            out,
            raw,
            col.name,
            f"range:{col.name}",
            f"{{value}} is outside the allowed range [{col.min}, {col.max}]",
        )
    if col.values:
        canon = {v.lower(): v for v in col.values}
        mapped = _obj((canon.get(v.lower()) if isinstance(v, str) else None for v in parsed.text), raw.index)
        errs += _errors(
            present & mapped.isna(),
            raw,
            col.name,
            f"values:{col.name}",
            f"{{value}} is not one of {', '.join(col.values)}",
        )
        parsed.values = parsed.text = mapped
    if col.pattern:
        rx = re.compile(col.pattern)
        nomatch = present & pd.Series(
            [isinstance(v, str) and rx.fullmatch(v) is None for v in parsed.text], index=raw.index, dtype=bool
        )
        errs += _errors(
            nomatch,
            raw,
            col.name,
            f"pattern:{col.name}",
            f"{{value}} does not match the expected format {col.pattern}",
        )
    if col.name == spec.event_time and col.type in ("date", "timestamp"):
        limit = today + dt.timedelta(days=spec.max_future_days)
        when = (
            f"after today ({today})"
            if not spec.max_future_days
            else f"more than {spec.max_future_days} day(s) after today ({today})"
        )
        day = [v.date() if isinstance(v, dt.datetime) else v for v in parsed.values]
        future = present & pd.Series([d is not None and d > limit for d in day], index=raw.index, dtype=bool)
        errs += _errors(future, raw, col.name, f"future_date:{col.name}", f"{{value}} is {when}")
    return parsed, errs


# Columns that name a store under another name than store_id, and the literal values also allowed there; in the
# kinds of REGION_SCOPES a store's country or subdivision code may stand there too (gold.calendar matches events to
# stores by those). Silver checks them (bakery.silver.cleaning), the importer notes unknown ones.
STORE_SCOPES = {"events": ("scope", ("national",))}
REGION_SCOPES = ("events",)


# ---- rules across columns (per kind) --------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def iana_timezones() -> frozenset[str]:
    """The IANA zone names this machine knows (Python's tzdata)."""
    return frozenset(available_timezones())


def _store_rules(values: pd.DataFrame, raw: pd.DataFrame) -> list[RowError]:
    """Timezone an IANA zone; subdivision an ISO 3166-2 code of the row's country.

    Checked at import: with a bad timezone silver quarantines the store and then every row naming it, and a
    subdivision of another country would give the store another country's regional holidays.
    """
    bad_zone = values["timezone"].map(lambda v: isinstance(v, str) and v not in iana_timezones()).astype(bool)
    errors = _errors(
        bad_zone,
        raw["timezone"],
        "timezone",
        "timezone:timezone",
        "{value} is not an IANA timezone (e.g. Europe/Madrid)",
    )
    if "subdivision" in values:
        for row, country, subdivision in values[["country", "subdivision"]].itertuples(name=None):
            if isinstance(country, str) and isinstance(subdivision, str):
                problem = subdivision_problem(country, subdivision)
                if problem:
                    value = raw.at[row, "subdivision"]
                    errors.append(
                        RowError(
                            int(row), "subdivision", "subdivision:subdivision", f"{value!r} {problem}", value
                        )
                    )
    return errors


def _event_rules(values: pd.DataFrame, raw: pd.DataFrame) -> list[RowError]:
    """An event ends on or after the day it starts."""
    if not {"event_date_start", "event_date_end"} <= set(values.columns):
        return []
    return [
        RowError(
            int(row),
            "event_date_end",
            "date_order:event_date_end",
            f"{raw.at[row, 'event_date_end']!r} is before event_date_start {raw.at[row, 'event_date_start']!r}",
            raw.at[row, "event_date_end"],
        )
        for row, start, end in values[["event_date_start", "event_date_end"]].itertuples(name=None)
        if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start
    ]


# kind -> rule over the typed values (a cell that already has an error is None) and the raw text of its rows.
ROW_RULES: dict[str, Callable[[pd.DataFrame, pd.DataFrame], list[RowError]]] = {
    "stores": _store_rules,
    "events": _event_rules,
}


def _row_rule_errors(
    spec: SourceSpec, parsed: dict[str, Parsed], raw: pd.DataFrame, errors: list[RowError]
) -> list[RowError]:
    rule = ROW_RULES.get(spec.kind)
    if rule is None or raw.empty:
        return []
    values = pd.DataFrame({c: p.values for c, p in parsed.items()}, index=raw.index, dtype=object)
    for e in errors:
        if e.column in values and e.row in values.index:
            values.at[e.row, e.column] = None
    return rule(values, raw)


def _conflicts(
    keys: pd.DataFrame, text: pd.DataFrame, raw: pd.DataFrame, max_shown: int = 3
) -> list[RowError]:
    """Rows of the file with the same key (typed) and different other values (`text`, canonical), each naming
    the others: which one is right is the user's call, so none is kept. Identical repeats are duplicates."""
    repeated = keys.duplicated(keep=False)
    if not repeated.any():
        return []
    group = keys[repeated].groupby(list(keys.columns), dropna=False, sort=False).ngroup()
    distinct = text[repeated].fillna("\0").groupby(group).nunique()  # group x column: how many values
    distinct = distinct[(distinct > 1).any(axis=1)]
    members = group[group.isin(distinct.index)]
    errors = []
    for g, rows in members.groupby(members).groups.items():
        rows = sorted(int(r) for r in rows)
        differ = [c for c in text.columns if distinct.at[g, c] > 1]
        key = ", ".join(f"{k} {raw.at[rows[0], k]!r}" for k in keys.columns if k in raw)
        for row in rows:
            others = [r for r in rows if r != row]
            shown = others[:max_shown]
            more = f" and {len(others) - len(shown)} more" if len(others) > len(shown) else ""
            diffs = "; ".join(
                f"{c} {raw.at[row, c]!r} here, " + ", ".join(f"{raw.at[r, c]!r} in row {r}" for r in shown)
                for c in differ
            )
            errors.append(
                RowError(
                    row,
                    differ[0],
                    "duplicate_conflict",
                    f"same key ({key}) as row{'s' if len(others) > 1 else ''} "
                    f"{', '.join(map(str, shown))}{more} with different values: {diffs}",
                    raw.at[row, differ[0]],
                )
            )
    return errors


def _utc_key(value: Any, store: Any, zones: Mapping[str, str]) -> Any:
    """A timestamp key as a naive UTC datetime; a store-local one needs the store's timezone."""
    if not isinstance(value, dt.datetime):
        return value
    if value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    zone = zones.get(store) if isinstance(store, str) else None
    if zone is None:
        return ("local", value)
    try:
        return value.replace(tzinfo=ZoneInfo(zone)).astimezone(dt.UTC).replace(tzinfo=None)
    except (ZoneInfoNotFoundError, ValueError):
        return ("local", value)


def _key_frame(
    spec: SourceSpec, parsed: dict[str, Parsed], index: pd.Index, zones: Mapping[str, str]
) -> pd.DataFrame:
    keys = pd.DataFrame(
        {k: parsed[k].values if k in parsed else _obj([None] * len(index), index) for k in spec.keys},
        index=index,
        dtype=object,
    )
    stores = parsed["store_id"].values if "store_id" in parsed else _obj([None] * len(index), index)
    for k in spec.keys:
        if spec.column(k).type == "timestamp":
            keys[k] = _obj((_utc_key(v, st, zones) for v, st in zip(keys[k], stores, strict=True)), index)
    return keys


def _resolve_duplicates(
    keys: pd.DataFrame, on_duplicate: str, existing: set[tuple] | None
) -> tuple[list[Duplicate], list[int]]:
    """Identical repeats within the file (skip keeps the first, overwrite the last; rows that repeat a key with
    other values are errors by now) and rows whose key is already stored."""
    keep = "first" if on_duplicate == "skip" else "last"
    dups: list[Duplicate] = []
    cols = list(keys.columns)
    if len(keys):
        winner = keys.assign(_row=keys.index).groupby(cols, dropna=False, sort=False)["_row"].transform(keep)
        for row in keys.index[keys.duplicated(keep=keep)]:
            dups.append(Duplicate(int(row), f"row {int(winner[row])}", "skipped"))
    dropped = {d.row for d in dups}
    if existing:
        for row, key in zip(keys.index, keys.itertuples(index=False, name=None), strict=True):
            if row not in dropped and key in existing:
                dups.append(
                    Duplicate(int(row), "stored data", "skipped" if on_duplicate == "skip" else "overwrites")
                )
    return dups, [d.row for d in dups if d.action == "skipped"]


def validate_frame(
    df: pd.DataFrame,
    spec: SourceSpec,
    mapping: Mapping[str, str | None] | None = None,
    *,
    synonyms: Synonyms | None = None,
    malformed: pd.Series | None = None,
    lines: pd.Series | None = None,
    today: dt.date | None = None,
    existing_keys: set[tuple] | None = None,
    store_timezones: Mapping[str, str] | None = None,
    on_duplicate: str = "skip",
    limits: IngestLimits | None = None,
) -> ValidationReport:
    """Validate a file's rows against the template of `spec.kind`.

    `malformed` (row -> reason) marks rows the reader could not split into fields; `lines` (row -> line)
    adds line numbers to errors; `existing_keys` are the natural keys already stored, as tuples of typed
    values (dates as date, timestamps as naive UTC datetime); `on_duplicate` is 'skip' or 'overwrite';
    `limits` (default: the conf dir's) caps the length of a cell.
    """
    if on_duplicate not in ("skip", "overwrite"):
        raise ValueError(f"on_duplicate must be 'skip' or 'overwrite', got {on_duplicate!r}")
    today = today or dt.date.today()
    cm = map_columns([str(c) for c in df.columns], spec, synonyms or load_synonyms(), mapping)
    report = _base_report(spec, df, cm)
    if report.fatal:
        return report
    malformed = malformed if malformed is not None else pd.Series(dtype=object)
    ok_rows = df.index[~df.index.isin(malformed.index)]
    errors = [
        RowError(int(r), None, "malformed_row", f"malformed row: {why}") for r, why in malformed.items()
    ]
    raw = pd.DataFrame(
        {name: df.iloc[:, idx].loc[ok_rows] for name, idx in cm.assigned.items()}, index=ok_rows, dtype=object
    )
    max_chars = (limits or ingest_limits()).max_cell_chars
    parsed: dict[str, Parsed] = {}
    for name in cm.assigned:
        capped, errors_long = _too_long(raw[name], name, max_chars)
        parsed[name], errs = _check_column(capped, spec.column(name), spec, today)
        long_rows = {e.row for e in errors_long}
        errors += errors_long + [e for e in errs if e.row not in long_rows]
        raw[name] = capped
    errors += _row_rule_errors(spec, parsed, raw, errors)
    valid = ok_rows[~ok_rows.isin({e.row for e in errors})]
    keys = _key_frame(
        spec,
        {k: Parsed(p.values.loc[valid], p.text.loc[valid], p.bad.loc[valid]) for k, p in parsed.items()},
        valid,
        store_timezones or {},
    )
    others = pd.DataFrame(
        {c: p.text.loc[valid] for c, p in parsed.items() if c not in spec.keys}, index=valid, dtype=object
    )
    conflicts = _conflicts(keys, others, raw)
    if conflicts:
        errors += conflicts
        valid = valid[~valid.isin({e.row for e in conflicts})]
        keys = keys.loc[valid]
    _order_and_locate(errors, spec, lines)
    invalid = sorted({e.row for e in errors})
    dups, skipped = _resolve_duplicates(keys, on_duplicate, existing_keys)
    keep = valid[~valid.isin(skipped)]
    report.rows = pd.DataFrame(
        {
            c: parsed[c].text.loc[keep] if c in parsed else _obj([None] * len(keep), keep)
            for c in spec.column_names
        },
        index=keep,
        dtype=object,
    )
    report.errors, report.invalid_rows, report.duplicates = errors, invalid, dups
    return report


def _order_and_locate(errors: list[RowError], spec: SourceSpec, lines: pd.Series | None) -> None:
    """Errors by row, then in template column order, with the file line of each row where known."""
    order = {c: i for i, c in enumerate(spec.column_names)}
    errors.sort(key=lambda e: (e.row, order.get(e.column or "", -1)))
    if lines is not None:
        for e in errors:
            line = lines.get(e.row)
            e.line = None if line is None or pd.isna(line) else int(line)


def _base_report(spec: SourceSpec, df: pd.DataFrame, cm: ColumnMapping) -> ValidationReport:
    report = ValidationReport(
        kind=spec.kind,
        total_rows=len(df),
        mapping=cm.source_names(),
        mapping_how=dict(cm.how),
        ignored_columns=[cm.headers[i] for i in cm.unmapped],
        rows=pd.DataFrame(columns=spec.column_names, dtype=object),
    )
    if cm.problems:
        report.fatal = "; ".join(cm.problems)
    elif cm.missing_required:
        report.fatal = cm.describe_missing()
    elif len(df) == 0:
        report.fatal = "the file has no data rows"
    return report


def validate_raw(
    raw: RawTable, spec: SourceSpec, mapping: Mapping[str, str | None] | None = None, **kwargs: Any
) -> ValidationReport:
    """validate_frame over what readers.read_file returned (malformed rows and line numbers included)."""
    return validate_frame(
        raw.frame(), spec, mapping, malformed=raw.malformed_series(), lines=raw.line_series(), **kwargs
    )
