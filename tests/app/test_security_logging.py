"""Log injection: a user value with a newline cannot write a second, forged record into logs/bakery.log."""

from __future__ import annotations

import logging
import re

import requests

from bakery.logs import setup_logging
from tests.app.conftest import PASSWORDS

FORGED = "2026-01-01 00:00:00,000 INFO bakery.app.audit: audit admin login.ok"
RECORD = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} [A-Z]+ [\w.]+: ")


def _csrf(s: requests.Session, live) -> str:
    page = s.get(f"{live.url}/login", timeout=10).text
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_user_values_with_newlines_stay_on_their_own_line(live, tmp_path):
    setup_logging(log_dir=tmp_path)  # the same set-up `bakery app` runs
    # an unknown user name carrying a forged record
    s = requests.Session()
    r = s.post(
        f"{live.url}/login",
        data={"username": f"nobody\n{FORGED}", "password": "x", "csrf_token": _csrf(s, live)},
        timeout=10,
    )
    assert r.status_code == 401
    # a signed-in user's refused request: its path (newline and all) is audited and logged
    s.post(
        f"{live.url}/login",
        data={"username": "ana", "password": PASSWORDS["ana"], "csrf_token": _csrf(s, live)},
        timeout=10,
    )
    r = s.post(f"{live.url}/x%0D%0A{FORGED.replace(' ', '%20')}", timeout=10)
    assert r.status_code == 403
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("bakery.test").exception("failed on %s", "a\x1b[31mred\nline")
    for handler in logging.getLogger().handlers:
        handler.flush()

    lines = (tmp_path / "bakery.log").read_text(encoding="utf-8").splitlines()
    records = [line for line in lines if RECORD.match(line)]
    assert not any(line.startswith(FORGED[:30]) for line in lines)
    assert any("access.denied /x\\r\\n2026-01-01 00:00:00,000 INFO" in line for line in records)
    assert any(line.endswith("failed on a\\x1b[31mred\\nline") for line in records)
    # a traceback keeps its own lines after its record
    assert "Traceback (most recent call last):" in lines and "ValueError: boom" in lines
    assert all(RECORD.match(line) or not line.startswith("2026") for line in lines)
