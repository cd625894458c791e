"""Managers' overrides of the bake plan: checked, recorded in the app database, audited and landed for the pipeline.

Each override becomes a row of the app's bake_overrides table (what the page and the API show at once) and a CSV
landing/overrides/app_override_<store>_<time>.csv, which the next nightly decisions step takes into
silver.bake_overrides and scores once the day's sales are in (docs/bake-plan.md#overrides). The rules a quantity
must meet are bakery.decisions.overrides', so the app and the docs cannot disagree.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bakery.app import audit
from bakery.app.auth import Principal, check_store
from bakery.app.db import BakeOverride, Database
from bakery.config import Settings
from bakery.decisions.overrides import (
    FILE_PREFIX,
    OVERRIDE_COLUMNS,
    OVERRIDES_KIND,
    OverrideError,
    OverrideRules,
    check_override,
)


@dataclass(frozen=True)
class OverrideRequest:
    """What the manager typed, with the plan row it changes (read from the served plan, never from the form)."""

    store_id: str
    product_id: str
    day: dt.date
    plan_quantity: float
    quantity: Any
    reason_code: str | None
    note: str | None = None
    confirmed: bool = False


def as_dict(row: BakeOverride) -> dict[str, Any]:
    """An override as the page and the API show it: {quantity, reason_code, note, by, at}."""
    return {
        "quantity": row.quantity,
        "reason_code": row.reason_code,
        "note": row.note,
        "by": row.username,
        "at": row.created_at.isoformat(timespec="seconds"),
    }


def _landing_row(row: BakeOverride) -> dict[str, str]:
    values = {
        "override_id": row.id,
        "store_id": row.store_id,
        "product_id": row.product_id,
        "date": row.date.isoformat(),
        "plan_quantity": f"{row.plan_quantity:g}",
        "quantity": f"{row.quantity:g}",
        "reason_code": row.reason_code,
        "note": row.note or "",
        "username": row.username,
        "created_at": row.created_at.isoformat(),
    }
    return {c: values[c] for c in OVERRIDE_COLUMNS}


def _land(settings: Settings, row: BakeOverride) -> Path:
    from bakery.ingest.landing import write_atomically

    stamp = row.created_at.strftime("%Y%m%dT%H%M%S%f")
    safe_store = re.sub(r"[^A-Za-z0-9_-]", "_", row.store_id)
    path = settings.landing_dir / OVERRIDES_KIND / f"{FILE_PREFIX}{safe_store}_{stamp}_{row.id[:8]}.csv"

    def _write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=OVERRIDE_COLUMNS)
            writer.writeheader()
            writer.writerow(_landing_row(row))

    return write_atomically(path, _write)


def save_override(
    settings: Settings,
    db: Database,
    principal: Principal,
    req: OverrideRequest,
    rules: OverrideRules,
    ip: str | None = None,
) -> dict[str, Any]:
    """Check scope and the rules (OverrideError naming the field), then record the override, land its CSV and
    audit it as `bake.override`. The row is committed only once its landing file is written, so the app never
    shows an override the pipeline will not get."""
    check_store(principal, req.store_id)
    quantity, note = check_override(
        req.plan_quantity, req.quantity, req.reason_code, req.note, req.confirmed, rules
    )
    row = BakeOverride(
        id=uuid.uuid4().hex,
        store_id=req.store_id,
        product_id=req.product_id,
        date=req.day,
        plan_quantity=float(req.plan_quantity),
        quantity=quantity,
        reason_code=str(req.reason_code),
        note=note or None,
        username=principal.username,
        created_at=dt.datetime.now(dt.UTC),
    )
    with db.session() as s:
        s.add(row)
        s.flush()
        path = _land(settings, row)
    audit.record(
        db,
        principal.username,
        "bake.override",
        f"{req.store_id}/{req.product_id}/{req.day.isoformat()}",
        ip=ip,
        plan_quantity=row.plan_quantity,
        quantity=row.quantity,
        reason_code=row.reason_code,
        note=row.note,
        override_id=row.id,
        file=str(path.relative_to(settings.landing_dir)),
    )
    return as_dict(row)


def overrides_in_force(db: Database, store_id: str, day: dt.date | None) -> dict[str, dict[str, Any]]:
    """Per product, the override in force for this store and day (the latest created): the caller has checked
    the store. {} for no day or no overrides."""
    if day is None:
        return {}
    with db.session() as s:
        rows = s.scalars(
            select(BakeOverride)
            .where(BakeOverride.store_id == store_id, BakeOverride.date == day)
            .order_by(BakeOverride.created_at, BakeOverride.id)
        ).all()
    return {r.product_id: as_dict(r) for r in rows}


__all__ = ["OverrideError", "OverrideRequest", "overrides_in_force", "save_override"]
