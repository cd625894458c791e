"""What every page, route and callback needs: settings, app config, database, auth, serving data."""

from __future__ import annotations

from dataclasses import dataclass

from bakery.app.appconf import AppConfig
from bakery.app.auth import Authenticator
from bakery.app.db import Database
from bakery.app.serving import ServingData
from bakery.app.settings_store import SettingsStore
from bakery.config import Settings


@dataclass
class AppContext:
    settings: Settings
    conf: AppConfig
    db: Database
    auth: Authenticator
    serving: ServingData
    options: SettingsStore
    secure_cookies: bool = True

    @property
    def databricks_identity(self) -> bool:
        return self.conf.get("auth.mode", "local") == "databricks"
