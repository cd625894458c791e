"""The retraining flag: uploads and batch deletions ask the next pipeline run to retrain.

A JSON file <home>/flags/retrain.json (requested_at, requested_by, reasons[], each reason with an id).
The app's workers add reasons and the pipeline removes the ones its training served: both are
read-modify-writes of the same file from different processes, so both hold <home>/flags/retrain.lock.
The pipeline reads the pending requests before it trains and afterwards removes exactly those
(`clear_retrain_flag(settings, consumed)`): a request made while it trains stays for the next run.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bakery.config import Settings
from bakery.ops.lock import file_lock

_lock = threading.Lock()  # threads of one process take turns even where the filesystem has no file locks


def flag_path(settings: Settings) -> Path:
    return settings.home / "flags" / "retrain.json"


def read_retrain_flag(settings: Settings) -> dict[str, Any] | None:
    path = flag_path(settings)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _write(path: Path, flag: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(flag, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)


def update_retrain_flag(
    settings: Settings, change: Callable[[dict[str, Any]], dict[str, Any] | None]
) -> bool:
    """Rewrite the flag with `change(flag)` under its lock (None from `change`: leave it as it is); False when
    there is no flag. For operators' rewrites, e.g. a person's erasure."""
    path = flag_path(settings)
    with _lock, file_lock(path.with_suffix(".lock")):
        flag = read_retrain_flag(settings)
        new = change(flag) if flag is not None else None
        if new is None:
            return False
        _write(path, new)
        return True


def request_retrain(settings: Settings, actor: str, reason: str, **detail: Any) -> dict[str, Any]:
    """Add a reason to the flag (created if absent), written atomically under the flag's lock."""
    path = flag_path(settings)
    with _lock, file_lock(path.with_suffix(".lock")):
        now = datetime.now(UTC).isoformat(timespec="seconds")
        flag = read_retrain_flag(settings) or {"requested_at": now, "reasons": []}
        flag["requested_by"] = actor
        flag["reasons"].append({"id": uuid.uuid4().hex, "at": now, "by": actor, "reason": reason, **detail})
        _write(path, flag)
    return flag


def pending_retrain_requests(settings: Settings, before: datetime | None = None) -> list[dict[str, Any]]:
    """The requests waiting for a training, only those made before `before` when given (a request made
    after the run's ingest started may bring data that run has not taken)."""
    reasons = (read_retrain_flag(settings) or {}).get("reasons", [])
    if before is None:
        return list(reasons)
    # Times are kept to the second: a request in the cutoff's own second waits (at worst one extra training).
    cutoff = (before.astimezone(UTC) if before.tzinfo else before.replace(tzinfo=UTC)).replace(microsecond=0)
    return [r for r in reasons if _at(r) < cutoff]


def _at(reason: dict[str, Any]) -> datetime:
    try:
        at = datetime.fromisoformat(str(reason.get("at")))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)  # unreadable: as old as can be, served by the next training
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def clear_retrain_flag(settings: Settings, consumed: list[dict[str, Any]] | None = None) -> bool:
    """Remove the requests a training served (`consumed`, as read before it started; None: all of them).
    Requests added since stay; the flag goes when none is left. True if a request was removed."""
    path = flag_path(settings)
    with _lock, file_lock(path.with_suffix(".lock")):
        flag = read_retrain_flag(settings)
        if flag is None:
            return False
        reasons = flag.get("reasons", [])
        left = [] if consumed is None else [r for r in reasons if r not in consumed]
        if not left:
            path.unlink(missing_ok=True)
            return True
        if len(left) == len(reasons):
            return False
        flag.update(reasons=left, requested_at=left[0].get("at"), requested_by=left[-1].get("by"))
        _write(path, flag)
        return True
