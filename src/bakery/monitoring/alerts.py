"""An alert: what happened, how bad, where, since when, and where to look. Plain data, no IO."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any


class Severity(IntEnum):
    """Ordered, so a channel can take `min_severity` and everything above it."""

    INFO = 10
    WARNING = 20
    CRITICAL = 30

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(
                f"severity must be one of {', '.join(s.name for s in cls)}; got {text!r}"
            ) from None


@dataclass(frozen=True)
class Alert:
    """One thing a person should know. `kind` is a stable code (for example `freshness.late_source`); the same
    kind for the same stores and series is the same alert, which the cooldown sends once."""

    kind: str
    severity: Severity
    title: str
    detail: str = ""
    stores: tuple[str, ...] = ()
    series: tuple[str, ...] = ()
    since: datetime | None = None
    link: str = "/"  # a path in the app, made absolute with alerts.app_url
    raised_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def fingerprint(self) -> str:
        """What makes two alerts the same one: kind, stores and series (not the wording or the time)."""
        key = json.dumps([self.kind, sorted(self.stores), sorted(self.series)])
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]

    def subject(self) -> str:
        return f"[{self.severity.name}] Bakery: {self.title}"

    def lines(self, app_url: str) -> list[str]:
        """The message body, the same on every channel."""
        out = [self.subject(), ""]
        if self.detail:
            out += [self.detail, ""]
        if self.stores:
            out.append(f"Stores: {', '.join(self.stores)}")
        if self.series:
            shown = list(self.series[:20])
            more = f" (+{len(self.series) - 20} more)" if len(self.series) > 20 else ""
            out.append(f"Series: {', '.join(shown)}{more}")
        if self.since is not None:
            out.append(f"Since: {self.since.isoformat(timespec='minutes')}")
        out.append(f"Raised: {self.raised_at.isoformat(timespec='seconds')}")
        out.append(f"Look at: {self.url(app_url)}")
        return out

    def url(self, app_url: str) -> str:
        return app_url.rstrip("/") + "/" + self.link.lstrip("/")

    def payload(self, app_url: str) -> dict[str, Any]:
        """The webhook's JSON: structured fields for any receiver, and `text` (what Slack and Teams incoming
        webhooks show) with the whole message."""
        return {
            "text": "\n".join(self.lines(app_url)),
            "severity": self.severity.name,
            "kind": self.kind,
            "title": self.title,
            "detail": self.detail,
            "stores": list(self.stores),
            "series": list(self.series),
            "since": self.since.isoformat() if self.since else None,
            "raised_at": self.raised_at.isoformat(),
            "link": self.url(app_url),
            "fingerprint": self.fingerprint(),
        }
