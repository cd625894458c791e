"""Helpers for the ops tests: tiny tables written through the Lakehouse, settings with retention overrides, and
another process holding a home's writer lock."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bakery.config import Settings, load_settings


def write(lh, layer: str, name: str, rows: list[tuple], schema: str) -> None:
    lh.append(lh.spark.createDataFrame(rows, schema), layer, name)


def tiny_settings(home: Path, **retention) -> Settings:
    return load_settings(home=home, overrides={"retention": retention} if retention else None)


# Holds the home's writer lock until the release file appears (at most two minutes), after writing the ready file.
HOLDER = """
import sys, time
from pathlib import Path
from bakery.config import load_settings
from bakery.ops.lock import home_lock

home, ready, release = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
with home_lock(load_settings(home=home), "bakery test-holder"):
    ready.write_text("held")
    deadline = time.monotonic() + 120
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
"""


@dataclass
class Holder:
    """A process holding a home's writer lock; touching `release` makes it let go."""

    process: subprocess.Popen
    release: Path

    @property
    def pid(self) -> int:
        return self.process.pid


def poll_until(condition: Callable[[], bool], what: str, tries: int = 1200) -> None:
    """Poll `condition` every 50 ms, at most `tries` times."""
    for _ in range(tries):
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"gave up waiting for {what}")


@contextmanager
def lock_held_by_another_process(home: Path, scratch: Path) -> Iterator[Holder]:
    """Another process holds the home's writer lock for the block (or until released or killed)."""
    ready, release = scratch / "holder.ready", scratch / "holder.release"
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(home), str(ready), str(release)])
    try:
        poll_until(lambda: ready.exists() or process.poll() is not None, "the holder to take the lock")
        assert process.poll() is None, "the holder process exited before taking the lock"
        yield Holder(process, release)
    finally:
        release.touch()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
