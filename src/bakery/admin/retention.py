"""The retention policy over a whole home: the lakehouse's (bakery.ops.retention) and, in the same tracked
run, the app's own records (bakery.app.data_retention, conf/app.yml `retention`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from bakery.app.data_retention import enforce_app_retention
from bakery.config import Settings
from bakery.lakehouse import Lakehouse
from bakery.ops import retention


def enforce_retention(lh: Lakehouse, settings: Settings, today: date) -> dict[str, Any]:
    """Apply the retention policy as of `today` to the lakehouse and the app's records."""
    return retention.enforce_retention(
        lh, settings, today, app_retention=lambda now: enforce_app_retention(settings, now)
    )
