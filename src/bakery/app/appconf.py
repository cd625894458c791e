"""App configuration: conf/app.yml, overridden by an `app:` mapping in the resolved settings (env overlays)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bakery.config import Settings, deep_merge, dotted_get, read_yaml


@dataclass(frozen=True)
class AppConfig:
    """The merged app settings plus the paths it derives from the home directory."""

    raw: dict[str, Any]
    home: Path

    def get(self, dotted: str, default: Any = None) -> Any:
        return dotted_get(self.raw, dotted, default)

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
    raw = read_yaml(path) if path.exists() else {}
    raw = deep_merge(raw, settings.get("app", {}) or {})
    if overrides:
        raw = deep_merge(raw, overrides)
    return AppConfig(raw=raw, home=settings.home)
