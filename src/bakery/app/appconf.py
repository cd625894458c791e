"""App configuration: conf/app.yml, overridden by an `app:` mapping in the resolved settings (env overlays)."""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bakery.config import Settings


def _merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in overlay.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@dataclass(frozen=True)
class AppConfig:
    """The merged app settings plus the paths it derives from the home directory."""

    raw: dict[str, Any]
    home: Path

    def get(self, dotted: str, default: Any = None) -> Any:
        node: Any = self.raw
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    @property
    def app_dir(self) -> Path:
        return self.home / "app"

    @property
    def uploads_dir(self) -> Path:
        """Where accepted upload batches are kept (immutable, one folder per batch)."""
        return self.app_dir / "uploads"

    @property
    def database_url(self) -> str:
        url = os.environ.get("BAKERY_APP_DB_URL") or self.get("database_url")
        return str(url) if url else f"sqlite:///{self.app_dir / 'app.db'}"

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.get("languages", ["es", "en"]))


def load_app_config(settings: Settings, overrides: dict[str, Any] | None = None) -> AppConfig:
    """Read conf/app.yml next to the settings' conf dir and apply `app:` overlays and explicit overrides."""
    path = settings.conf_dir / "app.yml"
    raw: dict[str, Any] = {}
    if path.exists():
        with path.open(encoding="utf-8") as fh:
            raw = yaml.safe_load(fh) or {}
    raw = _merge(raw, settings.get("app", {}) or {})
    if overrides:
        raw = _merge(raw, overrides)
    return AppConfig(raw=raw, home=settings.home)
