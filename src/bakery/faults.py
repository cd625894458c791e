"""Named fault-injection points, so crash-consistency tests can SIGKILL a real run at a chosen step.

Inert unless BAKERY_FAULT_POINT names the point being passed. With BAKERY_FAULT_DELAY (seconds) the
kill happens that long after the point, i.e. in the middle of whatever write follows it.
"""

from __future__ import annotations

import logging
import os
import signal
import threading

log = logging.getLogger(__name__)


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def fault_point(name: str) -> None:
    if os.environ.get("BAKERY_FAULT_POINT") != name:
        return
    delay = float(os.environ.get("BAKERY_FAULT_DELAY", "0") or 0)
    log.warning("fault injection: SIGKILL at %s (+%.2fs)", name, delay)
    if delay <= 0:
        _kill()
    timer = threading.Timer(delay, _kill)
    timer.daemon = True
    timer.start()
