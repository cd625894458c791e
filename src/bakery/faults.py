"""Named fault-injection points, so crash-consistency tests can SIGKILL a real run at a chosen step.

Inert unless a test sets BAKERY_FAULT_POINT to the point being passed; the points are named in POINTS. With BAKERY_FAULT_DELAY (seconds) the
kill happens that long after the point, i.e. in the middle of whatever write follows it.
"""

from __future__ import annotations

import logging
import os
import signal
import threading

log = logging.getLogger(__name__)

# Every fault point of the runtime: the step whose crash each one simulates (tests/test_etl_e2e.py and others).
POINTS = frozenset(
    {
        "after_bronze",  # the ETL's bronze step done, silver not started
        "after_silver",  # silver done, gold not started
        "bronze_before_records",  # bronze appended, its file registry and quarantine rows not yet
        "forecast_before_write",  # forecasts computed, gold.forecasts not yet written
        "silver_merged",  # a silver table merged, its batch's records not yet written
        "upload_before_record",  # an upload's rows held, the batch not yet recorded
        "upload_before_log",  # the batch in the app database, not yet in ops.upload_batches
        "upload_before_landing",  # the batch recorded, its file not yet moved into the landing zone
    }
)


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def fault_point(name: str) -> None:
    if name not in POINTS:
        raise ValueError(f"fault point {name!r} is not one of {sorted(POINTS)}")
    if os.environ.get("BAKERY_FAULT_POINT") != name:
        return
    delay = float(os.environ.get("BAKERY_FAULT_DELAY", "0") or 0)
    log.warning("fault injection: SIGKILL at %s (+%.2fs)", name, delay)
    if delay <= 0:
        _kill()
    timer = threading.Timer(delay, _kill)
    timer.daemon = True
    timer.start()
