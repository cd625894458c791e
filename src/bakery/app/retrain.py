"""The retraining flag: uploads and batch deletions ask the next pipeline run to retrain.

A JSON file <home>/flags/retrain.json (requested_at, requested_by, reasons[]): the pipeline's
"train if due" step retrains when it exists and removes it afterwards (`clear_retrain_flag`).
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bakery.config import Settings

_lock = threading.Lock()


def flag_path(settings: Settings) -> Path:
    return settings.home / "flags" / "retrain.json"


def read_retrain_flag(settings: Settings) -> dict[str, Any] | None:
    path = flag_path(settings)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def request_retrain(settings: Settings, actor: str, reason: str, **detail: Any) -> dict[str, Any]:
    """Add a reason to the flag (created if absent), written atomically."""
    path = flag_path(settings)
    with _lock:
        flag = read_retrain_flag(settings) or {"requested_at": datetime.now(UTC).isoformat(timespec="seconds"),
                                               "reasons": []}
        flag["requested_by"] = actor
        flag["reasons"].append({"at": datetime.now(UTC).isoformat(timespec="seconds"), "by": actor,
                                "reason": reason, **detail})
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(flag, indent=2, default=str), encoding="utf-8")
        os.replace(tmp, path)
    return flag


def clear_retrain_flag(settings: Settings) -> bool:
    """Called by the pipeline after it retrained; True if a flag was removed."""
    try:
        flag_path(settings).unlink()
        return True
    except FileNotFoundError:
        return False
