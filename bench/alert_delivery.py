"""How long an alert takes to reach a person: from the check that raised it to the local SMTP server and the
local webhook receiver, over real sockets (aiosmtpd and an HTTP server on 127.0.0.1), including the cooldown
lookup in ops.alerts before sending; then until the record is written in ops.alerts. Also with a webhook that
fails twice before answering (the retries' backoff is part of the time).

Usage: .venv/bin/python bench/alert_delivery.py [--runs 10]
Prints the median and the worst seconds per case; target: < 60 s.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import median  # noqa: E402

log = logging.getLogger("bench.alert_delivery")


def _conf(smtp_port: int, hook_url: str):
    from bakery.monitoring.config import parse_monitoring

    os.environ["BENCH_HOOK_URL"] = hook_url
    return parse_monitoring(
        {
            "alerts": {
                "cooldown_hours": 0,
                "app_url": "http://127.0.0.1:8050",
                "delivery": {"attempts": 4, "backoff_seconds": 2.0, "timeout_seconds": 10},
                "channels": {
                    "email": {"enabled": True, "port": smtp_port, "to": ["oncall@example.org"]},
                    "webhook": {"enabled": True, "url": {"env": "BENCH_HOOK_URL"}},
                },
            }
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from tests.monitoring.receivers import smtp_server, webhook_receiver

    from bakery.config import load_settings
    from bakery.lakehouse import Lakehouse
    from bakery.monitoring.alerts import Alert, Severity
    from bakery.monitoring.notify import raise_alerts
    from bakery.spark import get_spark

    with tempfile.TemporaryDirectory(prefix="bakery-bench-") as tmp:
        settings = load_settings(home=Path(tmp) / "home")
        lh = Lakehouse(get_spark(settings), settings)
        results: dict[str, list[float]] = {"healthy receivers": [], "webhook failing twice": []}
        recorded: dict[str, list[float]] = {case: [] for case in results}
        for case in results:
            for i in range(args.runs):
                with smtp_server() as (port, inbox), webhook_receiver() as (url, hook):
                    if case == "webhook failing twice":
                        hook.fail_next = 2
                    alert = Alert(f"bench.{i}", Severity.CRITICAL, "No forecasts were made tonight", "bench")
                    t0 = time.perf_counter()
                    raised = raise_alerts(lh, _conf(port, url), [alert])
                    recorded[case].append(time.perf_counter() - t0)
                    results[case].append(max(inbox.arrived[0], hook.arrived[0]) - t0)
                    assert raised[0].status == "delivered", raised
    log.info("alert delivery, %d runs per case (the first creates ops.alerts)", args.runs)
    for case, secs in results.items():
        worst = max(secs)
        log.info(
            "  %-22s in both receivers: median %.2f s, worst %.2f s; target < 60 s -> %s; recorded: median %.2f s",
            case,
            median(secs),
            worst,
            "met" if worst < 60 else "NOT met",
            median(recorded[case]),
        )


if __name__ == "__main__":
    main()
