"""The retrain flag loses no request: one made while a training runs stays for the next run, and requests
written at the same time by several processes (the app's workers) are all kept."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

from bakery.config import load_settings
from bakery.ops.retrain import (
    clear_retrain_flag,
    pending_retrain_requests,
    read_retrain_flag,
    request_retrain,
)

# Adds `count` requests to the home's flag, as an app worker does on uploads.
REQUESTER = """
import sys
from bakery.ops.retrain import request_retrain
from bakery.config import load_settings

settings = load_settings(home=sys.argv[1])
for i in range(int(sys.argv[3])):
    request_retrain(settings, sys.argv[2], f"upload {sys.argv[2]}-{i}")
"""


def _request_from_another_process(home, actor: str, count: int = 1) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", REQUESTER, str(home), actor, str(count)])


def _reasons(settings) -> list[str]:
    return [r["reason"] for r in (read_retrain_flag(settings) or {}).get("reasons", [])]


def test_a_request_made_while_training_runs_survives_for_the_next_run(tmp_path):
    settings = load_settings(home=tmp_path / "home")
    request_retrain(settings, "ana", "upload before the run")
    read = pending_retrain_requests(settings)  # what the pipeline saw when it decided to train
    assert [r["reason"] for r in read] == ["upload before the run"]

    during = _request_from_another_process(settings.home, "luis")  # the app, while the training runs
    assert during.wait(timeout=120) == 0
    assert clear_retrain_flag(settings, consumed=read)  # the training finished

    assert _reasons(settings) == ["upload luis-0"]
    flag = read_retrain_flag(settings)
    assert flag["requested_by"] == "luis"
    nxt = pending_retrain_requests(settings)
    assert clear_retrain_flag(settings, consumed=nxt) and read_retrain_flag(settings) is None


def test_requests_written_at_once_by_several_processes_are_all_kept(tmp_path):
    settings = load_settings(home=tmp_path / "home")
    workers = [_request_from_another_process(settings.home, f"w{n}", 20) for n in range(4)]
    assert [w.wait(timeout=300) for w in workers] == [0, 0, 0, 0]
    reasons = _reasons(settings)
    assert sorted(reasons) == sorted(f"upload w{n}-{i}" for n in range(4) for i in range(20))
    assert len({r["id"] for r in read_retrain_flag(settings)["reasons"]}) == 80


def test_requests_made_after_the_run_started_wait_for_the_next_one(tmp_path):
    settings = load_settings(home=tmp_path / "home")
    request_retrain(settings, "ana", "upload")
    now = datetime.now(UTC)
    assert pending_retrain_requests(settings, before=now - timedelta(seconds=5)) == []
    assert [r["reason"] for r in pending_retrain_requests(settings, before=now + timedelta(seconds=5))] == [
        "upload"
    ]
    assert not clear_retrain_flag(settings, consumed=[])  # a training for another reason serves none of them
    assert _reasons(settings) == ["upload"]
