"""What every page, route and callback needs: settings, app config, database, auth, serving data."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from functools import cached_property

from bakery.app.appconf import AppConfig
from bakery.app.auth import Authenticator
from bakery.app.db import Database
from bakery.app.queries import ServingData
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
    # CSP hashes of the inline scripts the Dash index page carries (set once the Dash app is built).
    script_hashes: tuple[str, ...] = field(default_factory=tuple)

    @cached_property
    def trusted_proxies(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """server.trusted_proxies as networks; a bad entry is an error naming it."""
        return self.networks("server.trusted_proxies")

    @cached_property
    def metrics_clients(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """metrics.allow as networks: the scrapers that may read GET /metrics without a token."""
        return self.networks("metrics.allow")

    def networks(self, key: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """The IP addresses or CIDR networks listed under conf `key`; a bad entry is an error naming it."""
        raw = self.conf.get(key, []) or []
        if isinstance(raw, str):
            raw = [raw]
        nets = []
        for i, entry in enumerate(raw):
            try:
                nets.append(ipaddress.ip_network(str(entry).strip(), strict=False))
            except ValueError:
                raise ValueError(f"{key}[{i}]: {entry!r} is not an IP address or a CIDR network") from None
        return tuple(nets)

    @property
    def databricks_identity(self) -> bool:
        return self.conf.get("auth.mode", "local") == "databricks"
