"""One writer per home, with real processes: a second writing command exits 1 naming the holder of the lock,
waits for it with --wait, and takes over the lock of a holder that was killed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bakery.config import load_settings
from bakery.ops.lock import LockHeld, home_lock, lock_path
from tests.ops.helpers import Holder, lock_held_by_another_process, poll_until

STORES = "store_id,name,city,country,timezone\nS01,Centro,Madrid,ES,Europe/Madrid\n"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def holder(home: Path, tmp_path: Path) -> Iterator[Holder]:
    """Another process holding the home's writer lock until the test releases (or kills) it."""
    with lock_held_by_another_process(home, tmp_path) as held:
        yield held


def bakery(home: Path, *args: str, **popen) -> subprocess.CompletedProcess:
    """`bakery --home HOME ARGS...` as a separate process, as a user or cron runs it."""
    return subprocess.run(
        [sys.executable, "-m", "bakery.cli", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=300,
        **popen,
    )


def _stores_file(tmp_path: Path) -> Path:
    path = tmp_path / "stores.csv"
    path.write_text(STORES, encoding="utf-8")
    return path


def _names_the_holder(text: str, holder: Holder) -> bool:
    return (
        f"pid {holder.pid} on host {socket.gethostname()}" in text
        and "(bakery test-holder)" in text
        and " since 20" in text
    )


def test_a_second_writer_exits_1_naming_the_holder(home, holder):
    for command in (["ingest"], ["pipeline", "--as-of", "2026-11-25"]):
        done = bakery(home, *command)
        assert done.returncode == 1, done.stderr[-2000:]
        assert _names_the_holder(done.stderr, holder), done.stderr[-2000:]
        assert "another command is writing the home" in done.stderr
    assert not (home / "tables").exists()  # refused before anything was written
    assert holder.process.poll() is None


def test_wait_gives_up_naming_the_holder(home, holder, tmp_path):
    done = bakery(home, "import", "stores", str(_stores_file(tmp_path)), "--wait", "0.5")
    assert done.returncode == 1 and _names_the_holder(done.stderr, holder), done.stderr[-2000:]
    assert "(waited 0.5 s)" in done.stderr
    assert not (home / "landing" / "stores").exists()


def test_wait_runs_the_second_writer_once_the_holder_finishes(home, holder, tmp_path):
    log = tmp_path / "waiter.err"
    with log.open("w") as err:
        waiter = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bakery.cli",
                "--home",
                str(home),
                "import",
                "stores",
                str(_stores_file(tmp_path)),
                "--wait",
                "120",
            ],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
        try:
            poll_until(lambda: "waiting up to 120 s" in log.read_text(), "the second command to wait")
            assert waiter.poll() is None and not (home / "landing" / "stores").exists()
            holder.release.touch()
            out, _ = waiter.communicate(timeout=120)
        finally:
            if waiter.poll() is None:
                waiter.kill()
                waiter.wait(timeout=30)
    assert waiter.returncode == 0, log.read_text()[-2000:]
    assert "ACCEPTED" in out and len(list((home / "landing" / "stores").iterdir())) == 1
    assert lock_path(load_settings(home=home)).read_text() == ""  # released: no holder on record


def test_a_killed_holder_s_lock_is_taken_over(home, holder, tmp_path):
    holder.process.send_signal(signal.SIGKILL)
    holder.process.wait(timeout=30)
    assert str(holder.pid) in lock_path(load_settings(home=home)).read_text()  # its record is left behind

    done = bakery(home, "import", "stores", str(_stores_file(tmp_path)))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "taking over the writer lock" in done.stderr and _names_the_holder(done.stderr, holder)
    assert "(no longer running)" in done.stderr
    assert lock_path(load_settings(home=home)).read_text() == ""


def test_in_process_holder_is_named_and_the_lock_is_free_again_after(home, holder):
    settings = load_settings(home=home)
    with pytest.raises(LockHeld) as refused, home_lock(settings, "second"):
        pass
    assert refused.value.holder.pid == holder.pid and refused.value.waited == 0
    holder.release.touch()
    holder.process.wait(timeout=30)
    with home_lock(settings, "second") as me:
        assert me.pid == os.getpid() and str(os.getpid()) in lock_path(settings).read_text()


def test_databricks_mode_does_not_lock(home, holder):
    """Volumes have no file locks; the bundle's max_concurrent_runs: 1 is the guard there (tests/test_jobs.py)."""
    settings = load_settings(home=home, overrides={"storage": {"mode": "databricks"}})
    with home_lock(settings, "job on a cluster") as me:
        assert me is None
