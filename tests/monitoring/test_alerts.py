"""Alerts reach people: a real SMTP server and a real webhook receiver on loopback; every alert, delivered
or not, is recorded in ops.alerts; the cooldown sends the same alert once; a dead channel is retried with
backoff and recorded as failed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bakery.config import ConfError
from bakery.monitoring.alerts import Alert, Severity
from bakery.monitoring.config import parse_monitoring
from bakery.monitoring.notify import raise_alerts
from bakery.tables import ALERTS
from tests.monitoring.receivers import smtp_server, webhook_receiver

LATE = Alert(
    kind="freshness.late_source",
    severity=Severity.WARNING,
    title="POS sales of S002 are late",
    detail="No sales file for 2026-12-06 by 05:00.",
    stores=("S002",),
    since=datetime(2026, 12, 7, 5, 0, tzinfo=UTC),
    link="/admin/health",
)


def conf(monkeypatch, smtp_port=None, hook_url=None, attempts=3, **alerts):
    channels = {}
    if smtp_port is not None:
        channels["email"] = {
            "enabled": True,
            "port": smtp_port,
            "to": ["oncall@example.org"],
            "min_severity": "WARNING",
        }
    if hook_url is not None:
        monkeypatch.setenv("TEST_HOOK_URL", hook_url)
        channels["webhook"] = {"enabled": True, "url": {"env": "TEST_HOOK_URL"}, "min_severity": "INFO"}
    return parse_monitoring(
        {
            "alerts": {
                "cooldown_hours": 12,
                "app_url": "https://bakery.example.org/",
                "delivery": {"attempts": attempts, "backoff_seconds": 0.5, "timeout_seconds": 5},
                "channels": channels,
                **alerts,
            }
        }
    )


def stored(lh):
    return lh.read_arrow(*ALERTS).to_pylist()


def test_an_alert_reaches_the_mailbox_and_the_webhook_with_what_where_since_and_a_link(lh, monkeypatch):
    with smtp_server() as (port, inbox), webhook_receiver() as (url, hook):
        [raised] = raise_alerts(lh, conf(monkeypatch, port, url), [LATE], run_id="run-1")
    assert raised.status == "delivered"
    [mail] = inbox.messages
    assert mail["Subject"] == "[WARNING] Bakery: POS sales of S002 are late"
    assert mail["To"] == "oncall@example.org"
    body = mail.get_payload()
    assert "Stores: S002" in body and "Since: 2026-12-07T05:00" in body
    assert "Look at: https://bakery.example.org/admin/health" in body
    [payload] = hook.received
    assert payload["severity"] == "WARNING" and payload["stores"] == ["S002"]
    assert payload["link"] == "https://bakery.example.org/admin/health"
    assert "POS sales of S002 are late" in payload["text"]  # what Slack and Teams show
    [row] = stored(lh)
    assert row["status"] == "delivered" and row["run_id"] == "run-1" and row["stores"] == ["S002"]
    assert {d["channel"]: d["ok"] for d in json.loads(row["deliveries"])} == {"email": True, "webhook": True}


def test_the_same_alert_is_sent_once_in_a_cooldown_but_recorded_each_time(lh, monkeypatch):
    other_store = Alert(**{**LATE.__dict__, "stores": ("S003",), "raised_at": datetime.now(UTC)})
    with webhook_receiver() as (url, hook):
        c = conf(monkeypatch, hook_url=url)
        raise_alerts(lh, c, [LATE])
        second = raise_alerts(lh, c, [LATE, other_store])
    assert [r.status for r in second] == ["suppressed", "delivered"]
    assert [p["stores"] for p in hook.received] == [["S002"], ["S003"]]
    assert sorted(r["status"] for r in stored(lh)) == ["delivered", "delivered", "suppressed"]


def test_a_dead_webhook_is_retried_with_backoff_recorded_as_failed_and_tried_again_next_time(lh, monkeypatch):
    waits: list[float] = []
    with smtp_server() as (port, inbox), webhook_receiver(status=503) as (url, hook):
        c = conf(monkeypatch, hook_url=url, attempts=3)
        [first] = raise_alerts(lh, c, [LATE], sleep=waits.append)
        assert hook.hits == 3 and waits == [0.5, 1.0]  # 3 attempts, backoff doubling between them
        assert first.status == "failed"
        [again] = raise_alerts(
            lh, c, [LATE], sleep=waits.append
        )  # never arrived: not held back by the cooldown
        assert again.status == "failed" and hook.hits == 6
        # the mailbox still gets it when only the webhook is down
        [partial] = raise_alerts(lh, conf(monkeypatch, port, url, attempts=1), [LATE], sleep=waits.append)
    assert partial.status == "partial" and len(inbox.messages) == 1
    rows = stored(lh)
    assert sorted(r["status"] for r in rows) == ["failed", "failed", "partial"]
    failed = json.loads(next(r for r in rows if r["status"] == "failed")["deliveries"])
    assert failed == [
        {"channel": "webhook", "ok": False, "attempts": 3, "error": "RuntimeError: HTTP 503 from the webhook"}
    ]


def test_an_alert_below_every_channels_severity_is_recorded_as_not_sent(lh, monkeypatch):
    info = Alert(kind="canary.started", severity=Severity.INFO, title="Canary started")
    with smtp_server() as (port, inbox):
        [raised] = raise_alerts(lh, conf(monkeypatch, port), [info])
    assert raised.status == "not_sent" and inbox.messages == []
    assert [r["status"] for r in stored(lh)] == ["not_sent"]


def test_bad_monitoring_conf_is_refused_naming_the_key(monkeypatch):
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    with pytest.raises(ConfError, match=r"alerts.channels.webhook.url must name a secret"):
        parse_monitoring(
            {"alerts": {"channels": {"webhook": {"enabled": True, "url": "https://hooks.example/x"}}}}
        )
    with pytest.raises(ConfError, match=r"webhook is enabled but its url secret .*NOT_SET_ANYWHERE"):
        parse_monitoring(
            {"alerts": {"channels": {"webhook": {"enabled": True, "url": {"env": "NOT_SET_ANYWHERE"}}}}}
        )
    with pytest.raises(
        ConfError, match=r"email.min_severity: severity must be one of INFO, WARNING, CRITICAL"
    ):
        parse_monitoring(
            {"alerts": {"channels": {"email": {"enabled": True, "to": ["a@b"], "min_severity": "LOUD"}}}}
        )
    with pytest.raises(ConfError, match=r"email.to is empty"):
        parse_monitoring({"alerts": {"channels": {"email": {"enabled": True}}}})


def test_the_shipped_conf_parses_with_channels_off(tmp_path):
    from bakery.config import resolve_conf_dir
    from bakery.monitoring.config import load_monitoring

    shipped = load_monitoring(resolve_conf_dir(None))
    assert shipped.email is None and shipped.webhook is None and shipped.cooldown_hours > 0
