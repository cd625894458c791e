"""The nightly monitoring step: live accuracy, data drift, then the alerts, delivered and recorded."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from bakery.config import Settings
from bakery.lakehouse import Lakehouse
from bakery.monitoring.accuracy_io import run_live_accuracy
from bakery.monitoring.alerts import Alert
from bakery.monitoring.config import load_monitoring
from bakery.monitoring.drift_io import run_drift
from bakery.monitoring.freshness import late_source_alerts, store_alerts
from bakery.monitoring.model_watch import watch_models
from bakery.monitoring.notify import Raised, raise_alerts

log = logging.getLogger(__name__)


@dataclass
class MonitoringReport:
    evaluated_on: date
    accuracy_rows: int = 0
    drift_rows: int = 0
    raised: list[Raised] = field(default_factory=list)
    retrain: bool = False  # a sustained accuracy breach: the caller requests an early retraining

    def to_dict(self) -> dict[str, Any]:
        return {
            "evaluated_on": self.evaluated_on.isoformat(),
            "accuracy_rows": self.accuracy_rows,
            "drift_rows": self.drift_rows,
            "alerts": [
                {"kind": r.alert.kind, "severity": r.alert.severity.name, "status": r.status}
                for r in self.raised
            ],
            "retrain": self.retrain,
        }


def run_monitoring(
    lh: Lakehouse,
    settings: Settings,
    evaluated_on: date,
    extra: list[Alert] | None = None,
    run_id: str | None = None,
) -> MonitoringReport:
    """Score and compare as of `evaluated_on` (the last day with sales), then raise what needs a person,
    together with `extra` alerts from the rest of the run (a late source, a failed step)."""
    conf = load_monitoring(settings.conf_dir)
    report = MonitoringReport(evaluated_on)
    summary, accuracy_alerts = run_live_accuracy(lh, conf.raw, evaluated_on)
    found, drift_alerts = run_drift(lh, conf.raw, evaluated_on)
    model_alerts = watch_models(lh, settings, evaluated_on)
    fresh_alerts = [
        *late_source_alerts(lh, evaluated_on + timedelta(days=1)),
        *store_alerts(lh, evaluated_on),
    ]
    report.accuracy_rows, report.drift_rows = len(summary), len(found)
    report.retrain = bool(accuracy_alerts)
    report.raised = raise_alerts(
        lh,
        conf,
        [*(extra or []), *fresh_alerts, *accuracy_alerts, *drift_alerts, *model_alerts],
        run_id=run_id,
    )
    log.info(
        "monitoring %s: %d accuracy rows, %d drift rows, %d alert(s)",
        evaluated_on,
        report.accuracy_rows,
        report.drift_rows,
        len(report.raised),
    )
    return report
