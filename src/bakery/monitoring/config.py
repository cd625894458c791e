"""conf/monitoring.yml as typed settings; secrets resolved from the environment or a Databricks scope."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bakery.config import ConfError, conf_file, dotted_get, read_yaml
from bakery.monitoring.alerts import Severity

FILE = "monitoring.yml"


@dataclass(frozen=True)
class Delivery:
    """How hard a channel is tried: `attempts` sends, waiting backoff_seconds x 1, 2, 4... between them."""

    attempts: int = 4
    backoff_seconds: float = 2.0
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class EmailSettings:
    host: str
    port: int
    security: str  # none | starttls | ssl
    sender: str
    to: tuple[str, ...]
    min_severity: Severity
    username: str | None = None
    password: str | None = None


@dataclass(frozen=True)
class WebhookSettings:
    url: str
    min_severity: Severity


@dataclass(frozen=True)
class MonitoringConfig:
    cooldown_hours: float
    app_url: str
    delivery: Delivery
    email: EmailSettings | None = None
    webhook: WebhookSettings | None = None
    raw: dict[str, Any] = field(default_factory=dict)


def resolve_secret(ref: Any, where: str) -> str | None:
    """A secret named in conf: {env: NAME} reads an environment variable (unset -> None); {scope, key} reads a
    Databricks secret. A plain string is refused: secrets are never written into conf files."""
    if ref is None:
        return None
    if not isinstance(ref, dict):
        raise ConfError(
            f"{FILE}: {where} must name a secret as {{env: NAME}} or {{scope: S, key: K}}, not a value"
        )
    if "env" in ref:
        return os.environ.get(str(ref["env"])) or None
    if "scope" in ref and "key" in ref:
        import base64

        from databricks.sdk import WorkspaceClient

        value = WorkspaceClient().secrets.get_secret(scope=str(ref["scope"]), key=str(ref["key"])).value
        return base64.b64decode(value or "").decode("utf-8") or None
    raise ConfError(f"{FILE}: {where} needs `env`, or `scope` and `key`; got {sorted(ref)}")


def _severity(value: Any, where: str) -> Severity:
    try:
        return Severity.parse(str(value))
    except ValueError as exc:
        raise ConfError(f"{FILE}: {where}: {exc}") from None


def _email(raw: dict[str, Any]) -> EmailSettings | None:
    if not raw.get("enabled"):
        return None
    where = "alerts.channels.email"
    security = str(raw.get("security", "none"))
    if security not in ("none", "starttls", "ssl"):
        raise ConfError(f"{FILE}: {where}.security must be none, starttls or ssl; got {security!r}")
    to = raw.get("to") or []
    if isinstance(to, str):
        to = [to]
    if not to:
        raise ConfError(f"{FILE}: {where}.to is empty: name at least one recipient, or set enabled: false")
    return EmailSettings(
        host=str(raw.get("host", "127.0.0.1")),
        port=int(raw.get("port", 25)),
        security=security,
        sender=str(raw.get("sender", "bakery-alerts@localhost")),
        to=tuple(str(t) for t in to),
        min_severity=_severity(raw.get("min_severity", "WARNING"), f"{where}.min_severity"),
        username=resolve_secret(raw.get("username"), f"{where}.username"),
        password=resolve_secret(raw.get("password"), f"{where}.password"),
    )


def _webhook(raw: dict[str, Any]) -> WebhookSettings | None:
    if not raw.get("enabled"):
        return None
    where = "alerts.channels.webhook"
    url = resolve_secret(raw.get("url"), f"{where}.url")
    if not url:
        raise ConfError(f"{FILE}: {where} is enabled but its url secret {raw.get('url')} is not set")
    if not url.startswith(("http://", "https://")):
        raise ConfError(f"{FILE}: {where}.url must be an http(s) URL")
    return WebhookSettings(
        url=url, min_severity=_severity(raw.get("min_severity", "WARNING"), f"{where}.min_severity")
    )


def parse_monitoring(raw: dict[str, Any]) -> MonitoringConfig:
    """Typed settings from the file's mapping; a bad value is refused naming its key."""
    delivery = dotted_get(raw, "alerts.delivery", {}) or {}
    attempts = int(delivery.get("attempts", 4))
    if attempts < 1:
        raise ConfError(f"{FILE}: alerts.delivery.attempts must be at least 1; got {attempts}")
    cooldown = float(dotted_get(raw, "alerts.cooldown_hours", 12))
    if cooldown < 0:
        raise ConfError(f"{FILE}: alerts.cooldown_hours must be >= 0; got {cooldown}")
    channels = dotted_get(raw, "alerts.channels", {}) or {}
    return MonitoringConfig(
        cooldown_hours=cooldown,
        app_url=str(dotted_get(raw, "alerts.app_url", "http://127.0.0.1:8050")).rstrip("/"),
        delivery=Delivery(
            attempts=attempts,
            backoff_seconds=float(delivery.get("backoff_seconds", 2.0)),
            timeout_seconds=float(delivery.get("timeout_seconds", 10.0)),
        ),
        email=_email(channels.get("email") or {}),
        webhook=_webhook(channels.get("webhook") or {}),
        raw=raw,
    )


def load_monitoring(conf_dir: str | Path | None) -> MonitoringConfig:
    """conf/monitoring.yml from the conf directory in use."""
    return parse_monitoring(read_yaml(conf_file(conf_dir, FILE)))
