"""Delivery of an alert: SMTP and a JSON webhook, each retried with backoff; the outcome is returned, never
raised, so one dead channel neither hides the alert from the other nor loses its record."""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

import requests

from bakery.monitoring.alerts import Alert, Severity
from bakery.monitoring.config import Delivery, EmailSettings, MonitoringConfig, WebhookSettings

log = logging.getLogger(__name__)


class Channel(Protocol):
    name: str
    min_severity: Severity

    def send(self, alert: Alert, app_url: str, timeout: float) -> None:
        """Deliver once; raise on failure."""


@dataclass(frozen=True)
class Outcome:
    channel: str
    ok: bool
    attempts: int
    error: str | None = None


class EmailChannel:
    name = "email"

    def __init__(self, conf: EmailSettings) -> None:
        self.conf = conf
        self.min_severity = conf.min_severity

    def message(self, alert: Alert, app_url: str) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = alert.subject()
        msg["From"] = self.conf.sender
        msg["To"] = ", ".join(self.conf.to)
        msg["X-Bakery-Alert"] = f"{alert.kind}; {alert.fingerprint()}"
        msg.set_content("\n".join(alert.lines(app_url)) + "\n")
        return msg

    def send(self, alert: Alert, app_url: str, timeout: float) -> None:
        c = self.conf
        if c.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                c.host, c.port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(c.host, c.port, timeout=timeout)
        with smtp:
            if c.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if c.username and c.password:
                smtp.login(c.username, c.password)
            smtp.send_message(self.message(alert, app_url))


class WebhookChannel:
    name = "webhook"

    def __init__(self, conf: WebhookSettings) -> None:
        self.conf = conf
        self.min_severity = conf.min_severity

    def send(self, alert: Alert, app_url: str, timeout: float) -> None:
        response = requests.post(self.conf.url, json=alert.payload(app_url), timeout=timeout)
        if response.status_code >= 300:
            raise RuntimeError(f"HTTP {response.status_code} from the webhook")


def configured_channels(conf: MonitoringConfig) -> list[Channel]:
    out: list[Channel] = []
    if conf.email is not None:
        out.append(EmailChannel(conf.email))
    if conf.webhook is not None:
        out.append(WebhookChannel(conf.webhook))
    return out


def send_with_retries(
    channel: Channel,
    alert: Alert,
    app_url: str,
    policy: Delivery,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Try up to policy.attempts times, waiting backoff x 1, 2, 4... between tries."""
    error = None
    for attempt in range(1, policy.attempts + 1):
        try:
            channel.send(alert, app_url, policy.timeout_seconds)
            return Outcome(channel.name, True, attempt)
        except Exception as exc:  # noqa: BLE001 - any failure is retried, then recorded
            error = f"{type(exc).__name__}: {exc}"[:500]
            log.warning(
                "alert %s via %s, attempt %d/%d failed: %s",
                alert.kind,
                channel.name,
                attempt,
                policy.attempts,
                error,
            )
            if attempt < policy.attempts:
                sleep(policy.backoff_seconds * 2 ** (attempt - 1))
    return Outcome(channel.name, False, policy.attempts, error)


def deliver(
    alert: Alert,
    channels: list[Channel],
    app_url: str,
    policy: Delivery,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Outcome]:
    """Send to every channel whose min_severity the alert reaches."""
    return [
        send_with_retries(ch, alert, app_url, policy, sleep)
        for ch in channels
        if alert.severity >= ch.min_severity
    ]
