"""Raise alerts: skip what was already sent within the cooldown, deliver the rest, and record every alert in
ops.alerts with what happened to it (delivered, partial, failed, suppressed, not_sent)."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bakery.lakehouse import Lakehouse
from bakery.monitoring.alerts import Alert
from bakery.monitoring.channels import Channel, Outcome, configured_channels, deliver
from bakery.monitoring.config import MonitoringConfig
from bakery.tables import ALERTS

log = logging.getLogger(__name__)

# Statuses after which the same alert is not sent again within the cooldown: it reached someone, or there
# was nobody to send it to. A failed delivery is tried again next time.
SENT = ("delivered", "partial", "not_sent")


@dataclass(frozen=True)
class Raised:
    alert: Alert
    status: str
    outcomes: tuple[Outcome, ...]


def recently_sent(lh: Lakehouse, fingerprints: Iterable[str], since: datetime) -> set[str]:
    """The fingerprints among `fingerprints` recorded as sent at or after `since`."""
    wanted = set(fingerprints)
    if not wanted or not lh.exists(*ALERTS):
        return set()
    rows = lh.read_arrow(*ALERTS, columns=["fingerprint", "status"], filters=[("raised_at", ">=", since)])
    return {
        f
        for f, s in zip(rows["fingerprint"].to_pylist(), rows["status"].to_pylist(), strict=True)
        if f in wanted and s in SENT
    }


def status_of(outcomes: list[Outcome]) -> str:
    if not outcomes:
        return "not_sent"
    ok = sum(o.ok for o in outcomes)
    return "delivered" if ok == len(outcomes) else "partial" if ok else "failed"


def raise_alerts(
    lh: Lakehouse,
    conf: MonitoringConfig,
    alerts: list[Alert],
    run_id: str | None = None,
    channels: list[Channel] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Raised]:
    """Deliver and record `alerts`. One alert repeated within the list is handled once."""
    if not alerts:
        return []
    channels = configured_channels(conf) if channels is None else channels
    now = datetime.now(UTC)
    seen = recently_sent(lh, (a.fingerprint() for a in alerts), now - timedelta(hours=conf.cooldown_hours))
    raised: list[Raised] = []
    for alert in alerts:
        fp = alert.fingerprint()
        if fp in seen:
            raised.append(Raised(alert, "suppressed", ()))
            continue
        outcomes = deliver(alert, channels, conf.app_url, conf.delivery, sleep)
        status = status_of(outcomes)
        if status in SENT:
            seen.add(fp)
        log.log(
            logging.ERROR if status in ("failed", "partial") else logging.INFO,
            "alert %s [%s] %s: %s",
            alert.kind,
            alert.severity.name,
            status,
            alert.title,
        )
        raised.append(Raised(alert, status, tuple(outcomes)))
    record(lh, raised, run_id)
    return raised


def record(lh: Lakehouse, raised: list[Raised], run_id: str | None) -> None:
    rows = [
        (
            uuid.uuid4().hex,
            r.alert.raised_at.astimezone(UTC).replace(tzinfo=None),
            r.alert.kind,
            r.alert.severity.name,
            r.alert.title,
            r.alert.detail,
            list(r.alert.stores),
            list(r.alert.series),
            r.alert.since.astimezone(UTC).replace(tzinfo=None) if r.alert.since else None,
            r.alert.link,
            r.alert.fingerprint(),
            r.status,
            json.dumps([o.__dict__ for o in r.outcomes]),
            run_id,
        )
        for r in raised
    ]
    lh.append(lh.spark.createDataFrame(rows, ALERTS.schema), *ALERTS)
