"""Local events and promotions entered by store managers: validated by the events template, landed as CSV.

Each submission becomes landing/events/app_event_<store>_<time>.csv, which the next pipeline run ingests
like any other events file (scope = the store), so it reaches the features of that store's forecasts.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bakery.app import audit
from bakery.app.auth import Principal, check_store
from bakery.app.db import Database
from bakery.config import Settings

EVENT_TYPES = ("event", "promotion", "holiday", "closure")
MAX_DAYS = 60
_PREFIX = "app_event_"


class EventError(ValueError):
    """A refused event; `key` is the i18n key of the message, `detail` the validator's reason if any."""

    def __init__(self, key: str, detail: str = "") -> None:
        super().__init__(detail or key)
        self.key = key
        self.detail = detail


@dataclass(frozen=True)
class LocalEvent:
    store_id: str
    name: str
    event_type: str
    start: dt.date
    end: dt.date

    def row(self) -> dict[str, str]:
        return {
            "event_date_start": self.start.isoformat(),
            "event_date_end": self.end.isoformat(),
            "event_name": self.name,
            "event_type": self.event_type,
            "scope": self.store_id,
        }


def parse_day(text: str | None) -> dt.date:
    """A form date as a manager writes it, dd/mm/aaaa (also d/m/aa... with / - or .), or ISO yyyy-mm-dd."""
    value = str(text or "").strip()
    found = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})", value)
    if found:
        day, month, year = (int(x) for x in found.groups())
        return dt.date(year + 2000 if year < 100 else year, month, day)
    return dt.date.fromisoformat(value[:10])


def check_form(
    store_id: str | None, name: str | None, event_type: str | None, start: str | None, end: str | None
) -> LocalEvent:
    """Form-level checks (the template validation follows in `submit_event`)."""
    name = re.sub(r"\s+", " ", (name or "")).strip()
    if not name or len(name) > 120:
        raise EventError("ev.err.name")
    if event_type not in EVENT_TYPES:
        raise EventError("ev.err.type")
    if not store_id:
        raise EventError("ev.err.store")
    try:
        d0, d1 = parse_day(start), parse_day(end or start)
    except ValueError:
        raise EventError("ev.err.dates") from None
    if d0 > d1 or (d1 - d0).days > MAX_DAYS:
        raise EventError("ev.err.dates")
    return LocalEvent(store_id, name, event_type, d0, d1)


def submit_event(
    settings: Settings,
    db: Database,
    principal: Principal,
    event: LocalEvent,
    ip: str | None = None,
    today: dt.date | None = None,
) -> Path:
    """Check scope, validate against the events template, write the landing CSV atomically, audit it."""
    from bakery.ingest.landing import write_atomically
    from bakery.ingest.mapping import load_synonyms
    from bakery.ingest.validate import validate_frame

    check_store(principal, event.store_id)
    spec = settings.source("events")
    frame = pd.DataFrame([event.row()], index=pd.Index([1], name="row"), dtype=object)
    report = validate_frame(frame, spec, synonyms=load_synonyms(settings), today=today)
    if report.fatal or report.errors:
        raise EventError("ev.err.invalid", report.fatal or "; ".join(e.reason for e in report.errors))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    safe_store = re.sub(r"[^A-Za-z0-9_-]", "_", event.store_id)
    path = settings.landing_dir / "events" / f"{_PREFIX}{safe_store}_{stamp}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)

    def _write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=spec.column_names)
            w.writeheader()
            w.writerow(event.row())

    write_atomically(path, _write)
    audit.record(
        db,
        principal.username,
        "event.created",
        event.store_id,
        ip=ip,
        name=event.name,
        type=event.event_type,
        start=event.start.isoformat(),
        end=event.end.isoformat(),
        file=str(path.relative_to(settings.landing_dir)),
    )
    return path


def app_events(settings: Settings, store_ids: list[str] | None) -> pd.DataFrame:
    """Events entered in the app (landing CSVs), for the given stores (None: all), newest first."""
    folder = settings.landing_dir / "events"
    rows = []
    for path in sorted(folder.glob(f"{_PREFIX}*.csv")) if folder.is_dir() else []:
        with path.open(encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                if store_ids is None or r.get("scope") in store_ids:
                    rows.append({**r, "file": path.name})
    cols = ["event_date_start", "event_date_end", "event_name", "event_type", "scope", "file"]
    df = pd.DataFrame(rows, columns=cols)
    return df.sort_values("file", ascending=False).reset_index(drop=True)


def is_duplicate(
    settings: Settings, loaded: pd.DataFrame, event: LocalEvent, skip_file: str | None = None
) -> bool:
    """The same store, name (any case or spacing) and days as an event already entered or loaded."""

    def same(store: str, name: str, start: object, end: object) -> bool:
        return (
            store == event.store_id
            and re.sub(r"\s+", " ", str(name)).strip().casefold() == event.name.casefold()
            and str(pd.Timestamp(start).date()) == event.start.isoformat()
            and str(pd.Timestamp(end).date()) == event.end.isoformat()
        )

    mine = app_events(settings, [event.store_id])
    for r in mine.itertuples():
        if r.file != skip_file and same(r.scope, r.event_name, r.event_date_start, r.event_date_end):
            return True
    return (
        any(same(r.scope, r.event_name, r.event_date_start, r.event_date_end) for r in loaded.itertuples())
        if len(loaded)
        else False
    )


def pending_event(
    settings: Settings, principal: Principal, file: str, taken: set[str]
) -> tuple[Path, LocalEvent]:
    """An event entered in the app that the next run has not taken yet (its file is not in ops.ingested_files),
    in one of the principal's stores: the only kind that may still be changed or withdrawn."""
    if not re.fullmatch(rf"{_PREFIX}[A-Za-z0-9_-]+\.csv", file or "") or file in taken:
        raise EventError("ev.err.not_pending")
    path = settings.landing_dir / "events" / file
    if not path.is_file():
        raise EventError("ev.err.not_pending")
    with path.open(encoding="utf-8", newline="") as fh:
        row = next(csv.DictReader(fh), None)
    if row is None:
        raise EventError("ev.err.not_pending")
    check_store(principal, row["scope"])
    event = LocalEvent(
        row["scope"],
        row["event_name"],
        row["event_type"],
        dt.date.fromisoformat(row["event_date_start"]),
        dt.date.fromisoformat(row["event_date_end"]),
    )
    return path, event


def withdraw_event(
    settings: Settings, db: Database, principal: Principal, file: str, taken: set[str], ip: str | None = None
) -> LocalEvent:
    """Delete a pending event's landing file (audited): the next run will not see it."""
    path, event = pending_event(settings, principal, file, taken)
    path.unlink()
    audit.record(db, principal.username, "event.deleted", event.store_id, ip=ip, name=event.name, file=file)
    return event
