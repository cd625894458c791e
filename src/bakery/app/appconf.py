"""App configuration: conf/app.yml, overridden by an `app:` mapping in the resolved settings (env overlays)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
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


PROFILE_ENV = "BAKERY_APP_PROFILE"
_TABLE_NAME = re.compile(r"^([^.`\s]+)\.([^.`\s]+)\.([^.`\s]+)$")


def load_app_config(
    settings: Settings, overrides: dict[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> AppConfig:
    """Read conf/app.yml next to the settings' conf dir, apply the profile named by $BAKERY_APP_PROFILE
    (`profiles:` in that file, e.g. `databricks` for a Databricks App), then `app:` overlays and explicit
    overrides."""
    path = settings.conf_dir / "app.yml"
    raw = read_yaml(path) if path.exists() else {}
    profiles = raw.pop("profiles", None) or {}
    profile = (os.environ if environ is None else environ).get(PROFILE_ENV, "")
    if profile:
        if profile not in profiles:
            raise ValueError(
                f"{PROFILE_ENV}={profile!r}: {path} has no such entry under `profiles:` "
                f"(expected one of {sorted(profiles)})"
            )
        raw = deep_merge(raw, profiles[profile])
    raw = deep_merge(raw, settings.get("app", {}) or {})
    if overrides:
        raw = deep_merge(raw, overrides)
    return AppConfig(raw=raw, home=settings.home)


def with_serving_table(
    settings: Settings, conf: AppConfig, environ: Mapping[str, str] | None = None
) -> Settings:
    """The settings with the catalog and layer schemas of the gold table named in the environment variable
    `serving.table_env` (a Databricks App gets `<catalog>.<prefix>gold.forecasts` from its table resource);
    unchanged when that variable is not set."""
    env_name = str(conf.get("serving.table_env", "BAKERY_SERVING_TABLE"))
    value = (os.environ if environ is None else environ).get(env_name, "").strip()
    if not value:
        return settings
    match = _TABLE_NAME.match(value)
    gold = str((settings.get("storage.schemas") or {}).get("gold", "gold"))
    if match is None or not match.group(2).endswith(gold):
        raise ValueError(
            f"{env_name}={value!r}: expected <catalog>.<prefix>{gold}.<table>, the three-part "
            "name of a gold table"
        )
    catalog, prefix = match.group(1), match.group(2)[: -len(gold)]
    schemas = {layer: f"{prefix}{name}" for layer, name in (settings.get("storage.schemas") or {}).items()}
    storage = {"storage": {"catalog": catalog, "schemas": schemas}}
    return replace(settings, raw=deep_merge(settings.raw, storage))
