"""Global settings an admin may change at run time: defaults from conf/app.yml, overrides in the app DB."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from bakery.app import audit
from bakery.app.appconf import AppConfig
from bakery.app.db import Database, SettingValue


class SettingError(ValueError):
    """A refused setting change; the message names the setting."""


@dataclass(frozen=True)
class SettingInfo:
    key: str
    value: Any
    default: Any
    kind: str
    min: float | None
    max: float | None
    values: tuple[str, ...] | None
    updated_by: str | None


class SettingsStore:
    """Typed, validated settings; values are re-read from the database at most every `ttl` seconds."""

    def __init__(self, db: Database, conf: AppConfig, ttl: float = 5.0) -> None:
        self.db = db
        self.specs: dict[str, dict[str, Any]] = dict(conf.get("editable", {}) or {})
        self.ttl = ttl
        self._values: dict[str, tuple[Any, str | None]] = {}
        self._loaded = 0.0
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        if time.monotonic() - self._loaded < self.ttl:
            return
        with self.db.session() as s:
            rows = s.scalars(select(SettingValue)).all()
            values = {r.key: (json.loads(r.value), r.updated_by) for r in rows if r.key in self.specs}
        with self._lock:
            self._values, self._loaded = values, time.monotonic()

    def get(self, key: str) -> Any:
        if key not in self.specs:
            raise KeyError(f"unknown setting {key!r}")
        self._refresh()
        stored = self._values.get(key)
        return stored[0] if stored else self.specs[key].get("default")

    def coerce(self, key: str, raw: Any) -> Any:
        """The typed value for `raw`, or SettingError naming the setting and the allowed range."""
        spec = self.specs.get(key)
        if spec is None:
            raise SettingError(f"unknown setting {key!r}")
        kind = spec.get("type", "str")
        try:
            if kind == "float":
                value: Any = float(raw)
            elif kind == "int":
                if isinstance(raw, float) and not raw.is_integer():
                    raise ValueError
                value = int(str(raw).strip())
            else:
                value = str(raw).strip()
        except (TypeError, ValueError):
            raise SettingError(f"{key}: expected a {kind} value, got {raw!r}") from None
        if kind in ("float", "int") and (
            value != value
            or (spec.get("min") is not None and value < spec["min"])
            or (spec.get("max") is not None and value > spec["max"])
        ):
            raise SettingError(f"{key}: {value} is outside {spec.get('min')}..{spec.get('max')}")
        if spec.get("values") and value not in spec["values"]:
            raise SettingError(f"{key}: expected one of {', '.join(spec['values'])}")
        return value

    def set(self, key: str, raw: Any, *, actor: str, ip: str | None = None) -> Any:
        value = self.coerce(key, raw)
        old = self.get(key)
        with self.db.session() as s:
            row = s.get(SettingValue, key)
            if row is None:
                s.add(SettingValue(key=key, value=json.dumps(value), updated_by=actor))
            else:
                row.value, row.updated_by = json.dumps(value), actor
        self._loaded = 0.0
        audit.record(self.db, actor, "setting.changed", key, ip=ip, old=old, new=value)
        return value

    def all(self) -> list[SettingInfo]:
        self._refresh()
        out = []
        for key, spec in self.specs.items():
            stored = self._values.get(key)
            out.append(
                SettingInfo(
                    key,
                    stored[0] if stored else spec.get("default"),
                    spec.get("default"),
                    spec.get("type", "str"),
                    spec.get("min"),
                    spec.get("max"),
                    tuple(spec["values"]) if spec.get("values") else None,
                    stored[1] if stored else None,
                )
            )
        return out
